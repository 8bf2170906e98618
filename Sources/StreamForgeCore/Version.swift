/// StreamForge's version: shown by `--version`, `status`, and checked by the package build
/// against packaging/debian/changelog.
public enum StreamForgeVersion {
    public static let current = "0.1.0"
}
