import COpenSSL
import FoundationEssentials

/// A PEM bundle of CA certificates (PUSH_CA_FILE), checked at start-up the way curl will read it.
public enum CertificateBundle {
    /// Why a file is not a usable bundle, for the start-up report; nil when every block reads.
    public static func problem(pem: String) -> String? {
        let blocks = pem.components(separatedBy: "-----BEGIN CERTIFICATE-----").count - 1
        guard blocks > 0 else { return "holds no PEM certificate (no -----BEGIN CERTIFICATE----- block)" }
        let read = certificateCount(pem: pem)
        return read == blocks ? nil : "certificate \(read + 1) of \(blocks) is not one OpenSSL can read"
    }

    /// How many certificates OpenSSL reads from `pem` before the first thing that is not one.
    static func certificateCount(pem: String) -> Int {
        guard pem.contains("-----BEGIN CERTIFICATE-----") else { return 0 }
        // The BIO reads through the pointer it is given (no copy): keep both inside the closure.
        return Array(pem.utf8).withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return 0 }
            defer { BIO_free(bio) }
            var count = 0
            while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
                X509_free(certificate)
                count += 1
            }
            ERR_clear_error()  // the end of the bundle leaves a "no start line" error behind
            return count
        }
    }
}
