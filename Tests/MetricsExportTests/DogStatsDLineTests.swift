import MetricsExport
import Testing

@Suite("DogStatsD datagrams")
struct DogStatsDLineTests {
    @Test("a metric is name:value|type|#tags, with separators in tag values replaced")
    func metricLine() {
        let tags = ["env:prod", DogStatsDLine.tag("destination", "/etc/a b|c,d#e")]
        #expect(DogStatsDLine.metric("git2kv.syncs", value: "1", type: .count, tags: tags) == "git2kv.syncs:1|c|#env:prod,destination:/etc/a_b_c_d_e")
        #expect(DogStatsDLine.metric("git2kv.ready", value: "0", type: .gauge, tags: []) == "git2kv.ready:0|g")
        #expect(DogStatsDLine.metric("bad name:x", value: "2", type: .histogram, tags: []) == "bad_name_x:2|h")
    }

    @Test("whole numbers are sent without a fraction, others as decimals")
    func values() {
        #expect(DogStatsDLine.value(1_764_712_345) == "1764712345")
        #expect(DogStatsDLine.value(0.25) == "0.25")
        #expect(DogStatsDLine.value(-3) == "-3")
    }

    @Test("an event gives the byte lengths of title and text, escapes newlines and keeps | out of the fields")
    func eventLine() {
        let event = DogStatsDEvent(
            title: "git2kv delivered /etc/café", text: "bundle: a|b\ncommit: c0ffee", alertType: .success, timestamp: 1_700_000_000,
            aggregationKey: "/etc/café", tags: ["outcome:delivered"])
        let line = DogStatsDLine.event(event, tags: ["env:prod"])
        let title = "git2kv delivered /etc/café"
        let text = "bundle: a¦b\\ncommit: c0ffee"
        #expect(line == "_e{\(title.utf8.count),\(text.utf8.count)}:\(title)|\(text)|d:1700000000|k:/etc/café|t:success|s:git2kv|#env:prod,outcome:delivered")
        #expect(!line.contains("\n"))
    }
}
