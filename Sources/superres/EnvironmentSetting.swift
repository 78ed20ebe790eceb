import Server

/// The flag's value, else the environment variable's (parsed; empty counts as unset), else nil.
func setting<Value>(
    _ flag: Value?,
    _ variable: String,
    _ environment: [String: String],
    _ parse: (String) -> Value?
) throws(ServerStartupError) -> Value? {
    if let flag { return flag }
    guard let text = environment[variable], !text.isEmpty else { return nil }
    guard let value = parse(text) else {
        throw ServerStartupError("\(variable)=\(text) is not a valid value")
    }
    return value
}
