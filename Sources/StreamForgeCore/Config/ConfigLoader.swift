// Placeholder until the loader lands: see ConfigLoader in the configuration work.
