extension Duration {
    /// Seconds as people read them in logs and replies: "10s", "2.5s" (one decimal).
    public var secondsText: String {
        let ms = components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
        guard ms % 1000 != 0 else { return "\(ms / 1000)s" }
        return String((Double(ms) / 100).rounded() / 10) + "s"
    }
}
