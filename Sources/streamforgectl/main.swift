// streamforgectl: the commands live in StreamForgeControl (also reachable as a symlink to
// streamforged, which is how the package installs it).
import StreamForgeControl

StreamForgeCtl.main()
