import Codecs
import Crypto
public import Postgres
public import XMPP
public import Logging
public import Loop

/// Groups (docs/api.md) are members-only MUC rooms that the admin component creates and manages
/// without joining. ejabberd holds the memberships; the `groups` table holds owner and name.
@LoopActor
public final class GroupService {
    public enum Failure: Error, Equatable, Sendable {
        case invalidName, invalidMember, notFound, forbidden, xmppUnavailable, databaseUnavailable
        /// The owner has `maximumGroupsPerOwner` groups already.
        case limitReached
        /// More than `maximumMembers` members (the owner not counted).
        case tooManyMembers
    }

    /// What one account may hold (docs/api.md, "Limits per account").
    public struct Limits: Sendable {
        public var maximumGroupsPerOwner: Int
        public var maximumMembers: Int

        public init(maximumGroupsPerOwner: Int = 100, maximumMembers: Int = 500) {
            self.maximumGroupsPerOwner = maximumGroupsPerOwner
            self.maximumMembers = maximumMembers
        }
    }

    public struct Group: Equatable, Sendable {
        public let jid: String
        public let name: String
        public let owner: String
        public let members: [String]
    }

    /// Sends an IQ from the admin component; nil when ejabberd could not be asked.
    public typealias Request = @LoopActor (XMLElement) async -> XMLElement?

    /// A group name's length in characters (code points, as XML counts them).
    nonisolated public static let nameCharacters = 1...100

    private let domain: String
    private let mucDomain: String
    private let component: String
    private let database: DatabasePool
    private let ejabberdDatabase: DatabasePool
    private let request: Request
    private let limits: Limits
    private let logger: Logger

    public init(domain: String, mucDomain: String, component: String, database: DatabasePool, ejabberdDatabase: DatabasePool,
                limits: Limits = Limits(), request: @escaping Request, logger: Logger) {
        self.limits = limits
        self.domain = domain
        self.mucDomain = mucDomain
        self.component = component
        self.database = database
        self.ejabberdDatabase = ejabberdDatabase
        self.request = request
        self.logger = logger
    }

    public func create(owner: String, name: String, members requested: [String]) async -> Result<Group, Failure> {
        guard Self.isValidName(name) else { return .failure(.invalidName) }
        let members: [String]
        switch await validMembers(requested, excluding: owner) {
        case .failure(let failure): return .failure(failure)
        case .success(let valid): members = valid
        }
        // Checked before the room exists; two creates at once may pass it together (one over).
        do {
            let owned = try await database.query("SELECT count(*) AS n FROM groups WHERE owner_jid = $1", [owner])
            guard (owned.value(0, "n").flatMap(Int.init) ?? 0) < limits.maximumGroupsPerOwner else { return .failure(.limitReached) }
        } catch {
            return .failure(.databaseUnavailable)
        }
        let room = JID(localpart: Base32.encode(SecureRandom.bytes(10)), domain: mucDomain).description
        guard await succeeded(XEP0045.createRoom(room, name: name, from: component)) else { return .failure(.xmppUnavailable) }
        let ownerSet = await succeeded(XEP0045.setAffiliation(.owner, of: [owner], in: room, from: component))
        let membersSet = members.isEmpty ? true : await succeeded(XEP0045.setAffiliation(.member, of: members, in: room, from: component))
        guard ownerSet, membersSet else {
            _ = await request(XEP0045.destroyRoom(room, from: component))
            return .failure(.xmppUnavailable)
        }
        do {
            _ = try await database.query("INSERT INTO groups (room_jid, owner_jid, name) VALUES ($1, $2, $3)", [room, owner, name])
        } catch {
            _ = await request(XEP0045.destroyRoom(room, from: component))
            return .failure(.databaseUnavailable)
        }
        return .success(Group(jid: room, name: name, owner: owner, members: members))
    }

    public func get(caller: String, room: String) async -> Result<Group, Failure> {
        switch await load(room) {
        case .failure(let failure): return .failure(failure)
        case .success(let group):
            guard group.owner == caller || group.members.contains(caller) else { return .failure(.forbidden) }
            return .success(group)
        }
    }

    public func addMembers(caller: String, room: String, members: [String]) async -> Result<Group, Failure> {
        await change(caller: caller, room: room, members: members, affiliation: .member, onlySelfAllowed: false)
    }

    /// The owner removes anyone but itself; a member may remove only itself (leave).
    public func removeMembers(caller: String, room: String, members: [String]) async -> Result<Group, Failure> {
        await change(caller: caller, room: room, members: members, affiliation: .none, onlySelfAllowed: true)
    }

    public func destroy(caller: String, room: String) async -> Result<Void, Failure> {
        switch await owned(room, by: caller) {
        case .failure(let failure): return .failure(failure)
        case .success: break
        }
        guard await succeeded(XEP0045.destroyRoom(room, from: component)) else { return .failure(.xmppUnavailable) }
        do {
            _ = try await database.query("DELETE FROM groups WHERE room_jid = $1", [room])
        } catch {
            return .failure(.databaseUnavailable)
        }
        return .success(())
    }

    /// Destroys every room `owner` owns (account deletion); true when all went.
    public func destroyAll(ownedBy owner: String) async -> Bool {
        guard let rooms = try? await database.query("SELECT room_jid FROM groups WHERE owner_jid = $1", [owner]) else { return false }
        var all = true
        for row in rooms.rows {
            guard let room = row[0] else { continue }
            if await succeeded(XEP0045.destroyRoom(room, from: component)) {
                _ = try? await database.query("DELETE FROM groups WHERE room_jid = $1", [room])
            } else {
                all = false
            }
        }
        return all
    }

    // MARK: Steps

    private func change(caller: String, room: String, members: [String], affiliation: XEP0045.Affiliation, onlySelfAllowed: Bool) async -> Result<Group, Failure> {
        let group: Group
        switch await load(room) {
        case .failure(let failure): return .failure(failure)
        case .success(let loaded): group = loaded
        }
        let isOwner = group.owner == caller
        let valid: [String]
        switch await validMembers(members, excluding: group.owner) {
        case .failure(let failure): return .failure(failure)
        case .success(let list): valid = list
        }
        if !isOwner {
            guard onlySelfAllowed, valid == [caller], group.members.contains(caller) else { return .failure(.forbidden) }
        }
        if affiliation == .member, Set(group.members).union(valid).count > limits.maximumMembers {
            return .failure(.tooManyMembers)
        }
        if !valid.isEmpty {
            guard await succeeded(XEP0045.setAffiliation(affiliation, of: valid, in: room, from: component)) else {
                return .failure(.xmppUnavailable)
            }
        }
        return await load(room)
    }

    private func owned(_ room: String, by caller: String) async -> Result<Void, Failure> {
        guard isRoomJID(room) else { return .failure(.notFound) }
        do {
            let row = try await database.query("SELECT owner_jid FROM groups WHERE room_jid = $1", [room])
            guard let owner = row.value(0, "owner_jid") else { return .failure(.notFound) }
            return owner == caller ? .success(()) : .failure(.forbidden)
        } catch {
            return .failure(.databaseUnavailable)
        }
    }

    private func load(_ room: String) async -> Result<Group, Failure> {
        guard isRoomJID(room) else { return .failure(.notFound) }
        let row: QueryResult
        do {
            row = try await database.query("SELECT owner_jid, name FROM groups WHERE room_jid = $1", [room])
        } catch {
            return .failure(.databaseUnavailable)
        }
        guard let owner = row.value(0, "owner_jid"), let name = row.value(0, "name") else { return .failure(.notFound) }
        guard let answer = await request(XEP0045.listAffiliation(.member, in: room, from: component)),
              answer.iqType == .result
        else { return .failure(.xmppUnavailable) }
        return .success(Group(jid: room, name: name, owner: owner, members: XEP0045.jids(in: answer).sorted()))
    }

    /// 1–100 characters of XML 1.0 text without control or bidi-override characters (docs/api.md):
    /// the name goes into the room-configuration IQ, and ejabberd closes the component stream as
    /// not-well-formed on a character XML forbids; on a lock screen a bidi override disguises it.
    nonisolated public static func isValidName(_ name: String) -> Bool {
        nameCharacters.contains(name.unicodeScalars.count) && name.unicodeScalars.allSatisfy { c in
            XMLEscaping.isXMLCharacter(c) && c.properties.generalCategory != .control && !bidiControls.contains(c.value)
        }
    }

    /// ALM, LRM, RLM, the embeddings and overrides, and the isolates (Unicode's Bidi_Control).
    nonisolated private static let bidiControls: Set<UInt32> = [0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069]

    /// Local accounts only: `user@domain` with a nodeprep'ed localpart that ejabberd knows.
    private func validMembers(_ members: [String], excluding owner: String) async -> Result<[String], Failure> {
        // Bounded before any work per member (nodeprep, a lookup): a list past the limit is refused whole.
        guard members.count <= limits.maximumMembers else { return .failure(.tooManyMembers) }
        var localparts: [String] = []
        for member in Set(members.map { $0.lowercased() }) where member != owner {
            // AccountRules bounds the localpart in bytes before nodeprep runs on it.
            guard let jid = JID(member), jid.isBare, jid.domain == domain, let local = jid.localpart.flatMap(AccountRules.username) else {
                return .failure(.invalidMember)
            }
            localparts.append(local)
        }
        guard !localparts.isEmpty else { return .success([]) }
        do {
            let known = try await ejabberdDatabase.query(
                "SELECT username FROM users WHERE server_host = $1 AND username = ANY($2::text[])",
                [domain, Self.textArray(localparts)])
            guard known.rows.count == localparts.count else { return .failure(.invalidMember) }
        } catch {
            return .failure(.databaseUnavailable)
        }
        return .success(localparts.sorted().map { JID(localpart: $0, domain: domain).description })
    }

    /// A PostgreSQL text[] literal: every element quoted, with `\` and `"` escaped (nodeprep lets a
    /// backslash through, and a trailing one would otherwise escape the closing quote).
    nonisolated static func textArray(_ values: [String]) -> String {
        var out = "{"
        for (index, value) in values.enumerated() {
            if index > 0 { out += "," }
            out += "\""
            for character in value {
                if character == "\\" || character == "\"" { out += "\\" }
                out.append(character)
            }
            out += "\""
        }
        return out + "}"
    }

    private func isRoomJID(_ jid: String) -> Bool {
        guard let room = JID(jid), room.isBare, room.domain == mucDomain, let name = room.localpart else { return false }
        return name.utf8.allSatisfy(Base32.isDigit)
    }

    private func succeeded(_ iq: XMLElement) async -> Bool {
        guard let answer = await request(iq) else { return false }
        if let error = Stanza.error(of: answer) {
            logger.warning("MUC request refused", metadata: ["to": "\(iq[attribute: "to"] ?? "")", "error": "\(error)"])
            return false
        }
        return true
    }
}
