import XCTest
import XMPP

final class DataFormTests: XCTestCase {
    /// The summary form of ejabberd 23.01's publish (docs/xmpp.md), as bytes.
    private static let summary = "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:push:summary</value></field><field var='last-message-sender' type='jid-single' label='The sender of the last received message'><value>bob@example.com/7568788421170312341315</value></field><field var='last-message-body' type='text-single'><value>hello 1</value></field></x>"

    func testReadsTheFormEjabberdSends() throws {
        let form = try XCTUnwrap(DataForm(parseStanza(Self.summary)))
        XCTAssertEqual(form.type, .submit)
        XCTAssertEqual(form.formType, "urn:xmpp:push:summary")
        XCTAssertEqual(form.value("last-message-sender"), "bob@example.com/7568788421170312341315")
        XCTAssertEqual(form.fields.map(\.name), ["FORM_TYPE", "last-message-sender", "last-message-body"])
        XCTAssertEqual(form.fields[1].type, "jid-single")
        XCTAssertNil(form.value("secret"))
    }

    func testWritesExactBytesAndRoundTrips() throws {
        let form = DataForm(type: .submit, fields: [
            .init("FORM_TYPE", type: "hidden", value: "http://jabber.org/protocol/admin"),
            .init("accountjids", values: ["a@example.com", "b@example.com"]),
            .init("password", value: "</value>&'"),
        ])
        let xml = form.element.xml(parentNamespace: "jabber:component:accept")
        XCTAssertEqual(xml, "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/admin</value></field><field var='accountjids'><value>a@example.com</value><value>b@example.com</value></field><field var='password'><value>&lt;/value&gt;&amp;'</value></field></x>")
        XCTAssertEqual(DataForm(parseStanza(xml)), form, "every field, type and value survives")
    }

    func testLenientWhereServersDiffer() throws {
        let untyped = try XCTUnwrap(DataForm(parseStanza("<x xmlns='jabber:x:data'><field var='secret'><value>s</value></field><field type='fixed'><value>note</value></field></x>")))
        XCTAssertNil(untyped.type, "a form without a type is read (some servers omit it on push summaries)")
        XCTAssertEqual(untyped.fields.map(\.name), ["secret"], "a field without var (fixed text) is skipped")
        XCTAssertEqual(untyped.value("secret"), "s")
        XCTAssertEqual(DataForm(parseStanza("<x xmlns='jabber:x:data' type='bogus'/>"))?.type, nil)
        XCTAssertEqual(DataForm(parseStanza("<x xmlns='jabber:x:data' type='submit'><field var='empty'/></x>"))?.fields.first?.values, [])
    }

    func testOnlyJabberXDataIsAForm() {
        XCTAssertNil(DataForm(parseStanza("<x xmlns='jabber:x:oob' type='submit'/>")))
        XCTAssertNil(DataForm(parseStanza("<form xmlns='jabber:x:data' type='submit'/>")))
        let wrapper = parseStanza("<notification xmlns='urn:xmpp:push:0'><x xmlns='jabber:x:oob'/>" + Self.summary + "</notification>")
        XCTAssertEqual(wrapper.dataForm?.formType, "urn:xmpp:push:summary", "the first child that is a data form")
    }
}
