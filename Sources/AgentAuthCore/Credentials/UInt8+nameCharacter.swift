extension UInt8 {
    /// Whether the byte is one of `A-Z a-z 0-9 . _ -`: what names chosen by clients and operators
    /// (tier names, verifier instance ids) are made of.
    var isNameCharacter: Bool {
        switch self {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default: false
        }
    }
}
