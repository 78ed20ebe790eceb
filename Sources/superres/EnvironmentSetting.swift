import Server

/// The flag's value, else the environment variable's (parsed; empty counts as unset), else nil.
func setting<Value>(
    _ flag: Value?,
    _ variable: String,
    _ environment: [String: String],
    _ parse: (String) -> Value?
) throws(ServerStartupError) -> Value? {
    if let flag { return flag }
    guard let text = textSetting(nil, variable, environment) else { return nil }
    guard let value = parse(text) else {
        throw ServerStartupError("\(variable)=\(text) is not a valid value")
    }
    return value
}

/// The flag's text, else the environment variable's (empty counts as unset), else nil.
func textSetting(_ flag: String?, _ variable: String, _ environment: [String: String]) -> String? {
    if let flag { return flag }
    guard let text = environment[variable], !text.isEmpty else { return nil }
    return text
}

/// `seconds` as a duration, or a startup error naming `flag` unless it is positive and finite.
func positiveDuration(seconds: Double, _ flag: String) throws(ServerStartupError) -> Duration {
    guard seconds > 0, seconds.isFinite, seconds < 1e9 else { throw ServerStartupError("\(flag) must be positive") }
    return .milliseconds(Int64(seconds * 1000))
}
