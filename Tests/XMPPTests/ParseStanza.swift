import XMPP

/// The stanza `xml` as the component's stream parser reads it (inside a component stream).
func parseStanza(_ xml: String) -> XMLElement {
    let parser = XMLStreamParser()
    _ = parser.feed(Array("<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams'>".utf8))
    guard case .stanza(let element)? = parser.feed(Array(xml.utf8)).first else { fatalError("no stanza in \(xml)") }
    return element
}
