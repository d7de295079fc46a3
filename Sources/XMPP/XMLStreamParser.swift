import CLibXML2

/// Turns the bytes of an XMPP stream into stanzas, with libxml2's SAX2 push parser (one context per
/// connection; XEP-0114 has no stream restart). Pure: bytes in, events out; no sockets, no clock.
///
/// Two kinds of bad input, handled differently (docs/xmpp.md, "A stanza over the parser's limits"):
/// - A stanza over a limit (more than `maximumDepth` levels, or more than `maximumStanzaBytes` bytes
///   since the last complete stanza) is *discarded*: its elements are no longer built, parsing goes
///   on, and when its top element ends `.discarded` names it (name, namespace, `id`/`type`/`from`/`to`
///   only). Anyone on the XMPP server can address such a stanza to a component domain, and ejabberd
///   deletes the push registration of every user it notifies while the push stream is down, so a
///   limit must never cost the stream.
/// - Input that is not XMPP stops the parser for good and yields `.failed`, with nothing emitted for
///   the stanza in progress: malformed XML, a DOCTYPE (so no entity can be declared: no billion
///   laughs), comments and processing instructions (RFC 6120 §11.1 forbids them), undefined entities.
///   ejabberd re-serializes every stanza it routes and never sends these.
public final class XMLStreamParser {
    public enum Event: Equatable, Sendable {
        /// `<stream:stream …>` with its attributes (id, from, …).
        case streamOpened(XMLElement)
        /// A complete top-level element: a stanza, `<handshake/>` or `<stream:error>`.
        case stanza(XMLElement)
        /// A stanza over a limit, skipped: its top element with only name, namespace and the
        /// addressing attributes (`id`, `type`, `from`, `to`), and why.
        case discarded(XMLElement, reason: String)
        /// `</stream:stream>`.
        case streamClosed
        case failed(String)
    }

    public let maximumStanzaBytes: Int
    public let maximumDepth: Int

    private var context: xmlParserCtxtPtr?
    private var events: [Event] = []
    private var stack: [XMLElement] = []
    /// Bytes fed in total, and the parser's position when the last stanza (or the header) completed.
    private var bytesFed = 0
    private var stanzaStart = 0
    private var bytesSinceStanza: Int { bytesFed - stanzaStart }
    private var failure: String?
    /// The stanza being skipped: its top element once seen, how many of its elements are open, why.
    private var discarding: (top: XMLElement?, depth: Int, reason: String)?

    public init(maximumStanzaBytes: Int = 64 * 1024, maximumDepth: Int = 32) {
        self.maximumStanzaBytes = maximumStanzaBytes
        self.maximumDepth = maximumDepth
        Self.initializeLibrary
        var handler = xmlSAXHandler()
        handler.initialized = XML_SAX2_MAGIC
        handler.startElementNs = startElement
        handler.endElementNs = endElement
        handler.characters = characters
        handler.cdataBlock = characters
        handler.internalSubset = refuseDTD
        handler.externalSubset = refuseDTD
        handler.entityDecl = refuseEntity
        handler.comment = refuseComment
        handler.processingInstruction = refuseProcessingInstruction
        handler.serror = structuredError
        // The context copies the SAX handler; the user data (self, unretained) outlives it: the
        // context is freed in deinit.
        context = xmlCreatePushParserCtxt(&handler, Unmanaged.passUnretained(self).toOpaque(), nil, 0, nil)
        // NONET: never fetch anything; no NOENT, HUGE, DTDLOAD or DTDATTR (they would expand or load).
        xmlCtxtUseOptions(context, Int32(XML_PARSE_NONET.rawValue))
    }

    deinit { if let context { xmlFreeParserCtxt(context) } }

    /// `xmlInitParser` once per process, before any context is made.
    private static let initializeLibrary: Void = { xmlInitParser() }()

    /// Feeds the next bytes, as they arrived (any chunking), and returns what they completed.
    public func feed(_ bytes: some Collection<UInt8>) -> [Event] {
        bytes.withContiguousStorageIfAvailable(feed(buffer:)) ?? Array(bytes).withUnsafeBufferPointer(feed(buffer:))
    }

    private func feed(buffer all: UnsafeBufferPointer<UInt8>) -> [Event] {
        guard failure == nil, let context, let base = all.baseAddress else { return [] }
        events.removeAll(keepingCapacity: true)
        var offset = 0
        // Count bytes stanza by stanza: feed at most up to the limit, so an oversized stanza is caught
        // before libxml2 buffers far past it. While one is skipped, its text is dropped as it comes
        // (libxml2 hands character data over in pieces), so it goes in a limit's worth at a time:
        // whatever follows it within that chunk is then under the limit, or caught in the next one.
        while offset < all.count, failure == nil {
            let room = discarding == nil ? max(1, maximumStanzaBytes - bytesSinceStanza + 1) : maximumStanzaBytes
            let end = min(all.count, offset + room)
            bytesFed += end - offset
            let result = (base + offset).withMemoryRebound(to: CChar.self, capacity: end - offset) {
                xmlParseChunk(context, $0, Int32(end - offset), 0)
            }
            offset = end
            if result != 0, failure == nil { fail("malformed XML (libxml2 error \(result))") }
            if failure == nil, discarding == nil, bytesSinceStanza > maximumStanzaBytes {
                startDiscarding("stanza larger than \(maximumStanzaBytes) bytes", opening: nil)
            }
        }
        // Stanzas completed before a failure were well-formed and stay; the one in progress never completes.
        return failure.map { events + [.failed($0)] } ?? events
    }

    // MARK: SAX callbacks (called from inside xmlParseChunk)

    fileprivate func fail(_ reason: String) {
        guard failure == nil else { return }
        failure = reason
        if let context { xmlStopParser(context) }
    }

    fileprivate func opened(_ element: XMLElement) {
        guard failure == nil else { return }
        if stack.isEmpty, discarding == nil, events.isEmpty, element.name == "stream",
           element.namespace == XMPPNamespace.streams, !streamOpen {
            streamOpen = true
            events.append(.streamOpened(element))
            markStanzaBoundary()
            return
        }
        guard streamOpen else { return fail("the first element is not <stream:stream>") }
        if var skipped = discarding {
            if skipped.top == nil { skipped.top = Self.addressing(of: element) }
            skipped.depth += 1
            discarding = skipped
            return
        }
        guard stack.count < maximumDepth else { return startDiscarding("elements nested deeper than \(maximumDepth)", opening: element) }
        stack.append(element)
    }

    /// Drops what was built of the stanza in progress (if any) and skips the rest of it. `opening` is
    /// an element whose start tag is being reported now (it counts as open).
    private func startDiscarding(_ reason: String, opening: XMLElement?) {
        let top = stack.first.map(Self.addressing) ?? opening.map(Self.addressing)
        discarding = (top, stack.count + (opening == nil ? 0 : 1), reason)
        stack = []
    }

    /// What an answer to a skipped stanza needs: name, namespace, id, type, from, to.
    private static func addressing(of element: XMLElement) -> XMLElement {
        let kept: Set<String> = ["id", "type", "from", "to"]
        return XMLElement(element.name, namespace: element.namespace, attributes: element.attributes.filter { kept.contains($0.name) })
    }

    private var streamOpen = false

    /// Called from a callback: the parser's position is just past the element that completed.
    private func markStanzaBoundary() {
        if let context { stanzaStart = Int(xmlByteConsumed(context)) }
    }

    fileprivate func closed() {
        guard failure == nil else { return }
        if var skipped = discarding, skipped.depth > 0 {
            skipped.depth -= 1
            guard skipped.depth == 0 else { discarding = skipped; return }
            discarding = nil
            if let top = skipped.top { events.append(.discarded(top, reason: skipped.reason)) }
            markStanzaBoundary()
            return
        }
        // An over-long run between stanzas that no element followed: the stream itself is ending.
        discarding = nil
        guard let element = stack.popLast() else {
            events.append(.streamClosed)
            return
        }
        if stack.isEmpty {
            events.append(.stanza(element))
            markStanzaBoundary()
        } else {
            stack[stack.count - 1].children.append(element)
        }
    }

    fileprivate func text(_ s: String) {
        guard failure == nil, discarding == nil else { return }
        // Whitespace between stanzas is ignored, and does not count toward the next stanza's size.
        guard !stack.isEmpty else { return markStanzaBoundary() }
        stack[stack.count - 1].text += s
    }
}

// MARK: - C callbacks: each finds the parser again through the context's user data.

private func parser(_ context: UnsafeMutableRawPointer?) -> XMLStreamParser {
    Unmanaged<XMLStreamParser>.fromOpaque(context!).takeUnretainedValue()
}

private func string(_ pointer: UnsafePointer<xmlChar>?) -> String {
    pointer.map { String(cString: $0) } ?? ""
}

private let startElement: startElementNsSAX2Func = { context, localName, prefix, uri, _, _, attributeCount, _, attributes in
    var element = XMLElement(string(localName), namespace: string(uri))
    if let attributes {
        // Five pointers per attribute: localname, prefix, URI, value start, value end (not NUL-terminated).
        for i in 0..<Int(attributeCount) {
            let name = string(attributes[i * 5])
            let attributePrefix = attributes[i * 5 + 1].map { String(cString: $0) + ":" } ?? ""
            guard let start = attributes[i * 5 + 3], let end = attributes[i * 5 + 4] else { continue }
            let raw = UnsafeBufferPointer(start: start, count: end - start)
            // Without entity substitution libxml2 hands out '&' in attribute values as "&#38;".
            let value = raw.contains(UInt8(ascii: "&")) ? decodeAmpersands(raw) : String(decoding: raw, as: UTF8.self)
            element.attributes.append((attributePrefix + name, value))
        }
    }
    _ = prefix
    parser(context).opened(element)
}

/// Replaces each "&#38;" with "&" (the only escape libxml2 leaves in attribute values here).
private func decodeAmpersands(_ raw: UnsafeBufferPointer<UInt8>) -> String {
    let escape = Array("&#38;".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(raw.count)
    var i = 0
    while i < raw.count {
        if raw[i] == UInt8(ascii: "&"), i + escape.count <= raw.count, raw[i..<(i + escape.count)].elementsEqual(escape) {
            out.append(UInt8(ascii: "&"))
            i += escape.count
        } else {
            out.append(raw[i])
            i += 1
        }
    }
    return String(decoding: out, as: UTF8.self)
}

private let endElement: endElementNsSAX2Func = { context, _, _, _ in parser(context).closed() }

private let characters: charactersSAXFunc = { context, bytes, length in
    guard let bytes else { return }
    parser(context).text(String(decoding: UnsafeBufferPointer(start: bytes, count: Int(length)), as: UTF8.self))
}

private let refuseDTD: internalSubsetSAXFunc = { context, _, _, _ in parser(context).fail("a DOCTYPE is not allowed in XMPP") }
private let refuseEntity: entityDeclSAXFunc = { context, _, _, _, _, _ in parser(context).fail("entity declarations are not allowed") }
private let refuseComment: commentSAXFunc = { context, _ in parser(context).fail("comments are not allowed in XMPP") }
private let refuseProcessingInstruction: processingInstructionSAXFunc = { context, _, _ in
    parser(context).fail("processing instructions are not allowed in XMPP")
}

private let structuredError: xmlStructuredErrorFunc = { context, error in
    guard let context else { return }
    let message = error?.pointee.message.map { String(cString: $0) } ?? "malformed XML"
    parser(context).fail(message.trimmingCharacters())
}

private extension String {
    func trimmingCharacters() -> String {
        var s = self
        while s.last?.isWhitespace == true { s.removeLast() }
        return s
    }
}
