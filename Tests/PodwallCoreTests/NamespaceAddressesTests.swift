import PodwallCore
import Testing

struct NamespaceAddressesTests {
    @Test func localIPv4AddressesFromTheFIBTrie() {
        let trie = """
            Main:
              +-- 0.0.0.0/0 3 0 5
                 +-- 127.0.0.0/8 2 0 2
                    |-- 127.0.0.1
                       /32 host LOCAL
                 |-- 198.18.0.0
                    /24 link UNICAST
                 |-- 198.18.0.11
                    /32 host LOCAL
                 |-- 198.18.0.255
                    /32 link BROADCAST
            Local:
                 |-- 198.18.0.11
                    /32 host LOCAL
            """
        #expect(NamespaceAddresses.ipv4(fibTrie: trie) == [IPAddress("198.18.0.11")!])
    }

    @Test func globalIPv6AddressesFromIfInet6() {
        let table = """
            fd000198001800000000000000000011 02 40 00 80     eth0
            fe8000000000000000fc00fffe000001 02 40 20 80     eth0
            00000000000000000000000000000001 01 80 10 80       lo
            """
        #expect(NamespaceAddresses.ipv6(ifInet6: table) == [IPAddress("fd00:198:18::11")!])
    }
}
