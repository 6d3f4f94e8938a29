public enum ServiceVersion {
    public static let name = "user-service"
    public static let version = "1.0.0"
}
