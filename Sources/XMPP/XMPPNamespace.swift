/// Namespaces of the XMPP core and XEP-0114; each XEP file names its own (`XEP0199.namespace`).
public enum XMPPNamespace {
    public static let component = "jabber:component:accept"
    public static let streams = "http://etherx.jabber.org/streams"
    public static let stanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"
    public static let streamErrors = "urn:ietf:params:xml:ns:xmpp-streams"
}
