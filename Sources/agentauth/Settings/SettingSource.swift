/// Where a setting's effective value came from, highest precedence first.
enum SettingSource: String, Encodable {
    case flag, env, file, `default`
}
