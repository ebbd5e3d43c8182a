//! Table test of the display filter language: each line is a filter and
//! either the number of the three synthetic frames below it matches, or the
//! error tshark 4.0.17 gives for it (message, then the caret span).

use dorsal_engine::dfilter::Filter;
use dorsal_engine::fields::{Base, FieldDef, FieldId, FieldType as T, Registry};
use dorsal_engine::table::{FieldTable, Timestamp, Value};

fn reg() -> Registry {
    let mut r = Registry::new();
    for (a, t) in [
        ("frame", T::Protocol),
        ("frame.number", T::U32),
        ("frame.len", T::U32),
        ("frame.time", T::AbsTime),
        ("frame.time_relative", T::RelTime),
        ("eth", T::Protocol),
        ("eth.src", T::Ether),
        ("eth.dst", T::Ether),
        ("ip", T::Protocol),
        ("ip.src", T::Ipv4),
        ("ip.dst", T::Ipv4),
        ("ip.addr", T::Ipv4),
        ("ip.ttl", T::U8),
        ("ip.proto", T::U8),
        ("ipv6", T::Protocol),
        ("ipv6.src", T::Ipv6),
        ("tcp", T::Protocol),
        ("tcp.srcport", T::U16),
        ("tcp.dstport", T::U16),
        ("tcp.port", T::U16),
        ("tcp.flags", T::U16),
        ("tcp.flags.syn", T::Bool),
        ("tcp.flags.ack", T::Bool),
        ("tcp.payload", T::Bytes),
        ("tcp.time_delta", T::RelTime),
        ("udp", T::Protocol),
        ("udp.port", T::U16),
        ("http", T::Protocol),
        ("http.host", T::String),
        ("http.request.uri", T::String),
        ("dns", T::Protocol),
        ("dns.qry.name", T::String),
        ("dns.ttl", T::I32),
    ] {
        r.add(FieldDef::new(a, a, t, Base::Dec));
    }
    r
}

fn frames(r: &Registry) -> Vec<FieldTable> {
    let id = |a: &str| r.lookup(a).expect("registered");
    let p = |t: &mut FieldTable, a: &str, v: Value| t.push(id(a), v);
    let mut out = Vec::new();
    // 1: Ethernet/IPv4/TCP/HTTP request.
    let mut t = FieldTable::new();
    t.push_proto(id("frame"), b"");
    p(&mut t, "frame.number", Value::U(1));
    p(&mut t, "frame.len", Value::U(60));
    p(
        &mut t,
        "frame.time",
        Value::AbsTime(Timestamp::new(1_331_909_229, 0)),
    );
    p(&mut t, "frame.time_relative", Value::RelTime(0));
    t.push_proto(id("eth"), b"");
    p(
        &mut t,
        "eth.src",
        Value::Ether([0, 0x0c, 0x29, 0xaa, 0xbb, 0xcc]),
    );
    p(&mut t, "eth.dst", Value::Ether([0xff; 6]));
    t.push_proto(id("ip"), b"");
    p(&mut t, "ip.src", Value::Ipv4([192, 168, 1, 1]));
    p(&mut t, "ip.addr", Value::Ipv4([192, 168, 1, 1]));
    p(&mut t, "ip.dst", Value::Ipv4([10, 0, 0, 1]));
    p(&mut t, "ip.addr", Value::Ipv4([10, 0, 0, 1]));
    p(&mut t, "ip.ttl", Value::U(64));
    p(&mut t, "ip.proto", Value::U(6));
    t.push_proto(id("tcp"), b"");
    p(&mut t, "tcp.srcport", Value::U(80));
    p(&mut t, "tcp.dstport", Value::U(1234));
    p(&mut t, "tcp.port", Value::U(80));
    p(&mut t, "tcp.port", Value::U(1234));
    p(&mut t, "tcp.flags", Value::U(0x012));
    p(&mut t, "tcp.flags.syn", Value::Bool(true));
    p(&mut t, "tcp.flags.ack", Value::Bool(true));
    t.push_bytes(id("tcp.payload"), b"GET /index.html HTTP/1.1");
    p(&mut t, "tcp.time_delta", Value::RelTime(1_500_000_000));
    t.push_proto(id("http"), b"GET /index.html HTTP/1.1");
    t.push_str(id("http.host"), b"Example.com");
    t.push_str(id("http.request.uri"), b"/index.html");
    out.push(t);
    // 2: IPv4 in IPv4, UDP, DNS.
    let mut t = FieldTable::new();
    t.push_proto(id("frame"), b"");
    p(&mut t, "frame.number", Value::U(2));
    p(&mut t, "frame.len", Value::U(1500));
    p(
        &mut t,
        "frame.time",
        Value::AbsTime(Timestamp::new(1_331_909_230, 500_000_000)),
    );
    p(&mut t, "frame.time_relative", Value::RelTime(1_500_000_000));
    t.push_proto(id("eth"), b"");
    p(&mut t, "eth.src", Value::Ether([0, 0x0c, 0x29, 1, 2, 3]));
    p(
        &mut t,
        "eth.dst",
        Value::Ether([0, 0x0c, 0x29, 0xaa, 0xbb, 0xcc]),
    );
    t.push_proto(id("ip"), b"");
    p(&mut t, "ip.src", Value::Ipv4([10, 0, 0, 1]));
    p(&mut t, "ip.addr", Value::Ipv4([10, 0, 0, 1]));
    p(&mut t, "ip.dst", Value::Ipv4([192, 168, 1, 1]));
    p(&mut t, "ip.addr", Value::Ipv4([192, 168, 1, 1]));
    p(&mut t, "ip.ttl", Value::U(128));
    p(&mut t, "ip.proto", Value::U(4));
    t.push_proto(id("ip"), b"");
    p(&mut t, "ip.src", Value::Ipv4([172, 16, 0, 1]));
    p(&mut t, "ip.addr", Value::Ipv4([172, 16, 0, 1]));
    p(&mut t, "ip.dst", Value::Ipv4([172, 16, 0, 2]));
    p(&mut t, "ip.addr", Value::Ipv4([172, 16, 0, 2]));
    p(&mut t, "ip.ttl", Value::U(1));
    p(&mut t, "ip.proto", Value::U(17));
    t.push_proto(id("udp"), b"");
    p(&mut t, "udp.port", Value::U(53));
    p(&mut t, "udp.port", Value::U(5353));
    t.push_proto(id("dns"), b"");
    t.push_str(id("dns.qry.name"), b"a.Example.org");
    p(&mut t, "dns.ttl", Value::I(-5));
    out.push(t);
    // 3: IPv6 only.
    let mut t = FieldTable::new();
    t.push_proto(id("frame"), b"");
    p(&mut t, "frame.number", Value::U(3));
    p(&mut t, "frame.len", Value::U(42));
    p(
        &mut t,
        "frame.time",
        Value::AbsTime(Timestamp::new(1_331_909_300, 0)),
    );
    p(
        &mut t,
        "frame.time_relative",
        Value::RelTime(71_000_000_000),
    );
    t.push_proto(id("eth"), b"");
    p(&mut t, "eth.src", Value::Ether([2, 0, 0, 0, 0, 1]));
    p(&mut t, "eth.dst", Value::Ether([0xff; 6]));
    t.push_proto(id("ipv6"), b"");
    let mut a = [0u8; 16];
    a[0] = 0x20;
    a[1] = 0x01;
    a[2] = 0x0d;
    a[3] = 0xb8;
    a[15] = 1;
    p(&mut t, "ipv6.src", Value::Ipv6(a));
    out.push(t);
    out
}

const TABLE: &str = r#"
# filter	count | !message	span
	3
frame	3
tcp	1
ip	2
ipv6	1
!tcp	2
not ip	1
tcp and not http	0
tcp or udp	2
tcp || udp	2
tcp xor udp	!"xor" was unexpected in this context.	4,7
http && tcp	1
frame.number == 1	1
frame.number eq 2	1
frame.number any_eq 3	1
frame.number != 1	2
frame.number ne 1	2
frame.number all_ne 1	2
frame.number > 1	2
frame.number gt 1	2
frame.number >= 2	2
frame.number ge 2	2
frame.number < 3	2
frame.number lt 3	2
frame.number <= 1	1
frame.number le 1	1
frame.number == 0x1	1
frame.number == 01	1
frame.number == 0b10	1
frame.number == '\x03'	1
frame.number == '\003'	1
frame.number in {1, 3}	2
frame.number in {1..2}	2
frame.number in {1..2, 3}	3
frame.number not in {1, 3}	1
frame.number in {2 3}	!"3" was unexpected in this context.	19,20
frame.number in {}	!"}" was unexpected in this context.	17,18
frame.number in {1, }	!"}" was unexpected in this context.	20,21
frame.len > 1000	1
frame.len <= 60	2
frame.len + 40 == 100	1
frame.len - 2 == 40	1
frame.len * 2 == 120	1
frame.len / 2 == 30	1
frame.len % 7 == 4	1
{frame.len + 40} * 2 == 200	1
frame.len & 0x04 == 4	2
frame.len bitwise_and 0x08	3
frame.len & 0x10	2
frame.number == frame.number	3
frame.len > frame.number	3
1 < frame.number < 3	1
frame.number == -1	0
frame.number < -1	0
ip.src == 192.168.1.1	1
ip.src == 10.0.0.1	1
ip.dst != 192.168.1.1	1
ip.addr == 10.0.0.1	2
ip.addr != 10.0.0.1	0
any ip.addr != 10.0.0.1	2
ip.addr !== 10.0.0.1	2
ip.addr ~= 10.0.0.1	2
ip.addr === 10.0.0.1	0
all ip.addr == 10.0.0.0/8	0
ip.addr == 192.168.0.0/16	2
ip.addr == 172.16.0.0/12	1
ip.src == 10.0.0.0/8	1
ip.src in {192.168.1.1 10.0.0.1}	!"10.0.0.1" was unexpected in this context.	23,31
ip.src in {192.168.1.1, 172.16.0.1}	2
ip.src#1 == 10.0.0.1	1
ip.src#2 == 172.16.0.1	1
ip.src#2 == 10.0.0.1	0
ip.src#1 == 172.16.0.1	0
ip.src#-1 == 172.16.0.1	!Expected digit or "[", not "-"	7,8
ip.ttl#2 == 1	1
ip.src#[1-2] == 172.16.0.1	1
ip.src#x == 1.2.3.4	!Expected digit or "[", not "x"	7,8
ip.src == ip.dst	0
ip.src == 1.2.3.x	!"1.2.3.x" is not a valid hostname or IPv4 address.	10,17
ip.src == 1.2.3.4.5	!"1.2.3.4.5" is not a valid hostname or IPv4 address.	10,19
ip.src == ::1	!"::1" is not a valid hostname or IPv4 address.	10,13
ip.src == "foo"	!IPv4 address cannot be converted from a string ("foo").	10,15
ip.src == 1.2.3.4/33	!Netmask bits in a CIDR IPv4 address should be <= 32, not 33	10,20
ip.src == tcp.port	!ip.src and tcp.port are not of compatible types.	10,18
ip.src contains 1.2.3.4	!ip.src (type=IPv4 address) cannot participate in contains comparison.	0,6
ip.ttl == 300	!"300" too big for this field, maximum 255.	10,13
ip.ttl == 0x1ff	!"0x1ff" too big for this field, maximum 255.	10,15
ip.ttl < 64	1
ip.ttl == 64 or ip.ttl == 1	2
ip.proto == 6	1
ipv6.src == 2001:db8::1	1
ipv6.src == 2001:db8::/32	1
ipv6.src == 2001:db9::/32	0
ipv6.src == ::1	0
ipv6.src == 1.2.3.4	!"1.2.3.4" is not a valid hostname or IPv6 address.	12,19
ipv6.src == ::1/129	!Prefix in a IPv6 address should be <= 128, not 129	12,19
ipv6.src == zz::1	!"::1" was unexpected in this context.	14,17
tcp.port == 80	1
tcp.port == 1234	1
tcp.port != 80	0
tcp.port in {80, 443}	1
tcp.port in {1000..2000}	1
tcp.port > 1000 and tcp.port < 2000	1
tcp.port == 70000	!"70000" too big for this field, maximum 65535.	12,17
tcp.port == "80"	!Unsigned integer (2 bytes) cannot be converted from a string ("80").	12,16
tcp.port == foo	!"foo" is not a valid number.	12,15
tcp.port == 1.5	!"1.5" is not a valid number.	12,15
tcp.port contains 80	!tcp.port (type=Unsigned integer (2 bytes)) cannot participate in contains comparison.	0,8
tcp.port matches "x"	!tcp.port (type=Unsigned integer (2 bytes)) cannot participate in matches comparison.	0,8
tcp.port[0] == 1	!"tcp.port" is a Unsigned integer (2 bytes) and cannot be sliced into a sequence of bytes.	0,8
tcp.port = 80	!"=" was unexpected in this context.	9,10
tcp.port ==	!Unexpected end of filter expression.
tcp.port == 	!Unexpected end of filter expression.
(tcp.port == 80	!Unexpected end of filter expression.
tcp.port == 80)	!")" was unexpected in this context.	14,15
tcp.port == 80 80	!"80" was unexpected in this context.	15,17
== 80	!"==" was unexpected in this context.	0,2
and tcp	!"and" was unexpected in this context.	0,3
tcp and	!Unexpected end of filter expression.
!	!Unexpected end of filter expression.
all tcp.port	!Unexpected end of filter expression.
tcp.port #	!Unexpected end of filter expression.
tcp.srcport == tcp.dstport	0
tcp.srcport < tcp.dstport	1
tcp.flags == 0x012	1
tcp.flags == 0x018	0
tcp.flags & 0x02	1
tcp.flags & 0x08	0
tcp.flags & 0x02 == 2	1
tcp.flags.syn	1
tcp.flags.syn == 1	1
tcp.flags.syn == 2	1
tcp.flags.syn == 0	0
tcp.flags.syn == TRUE	1
tcp.flags.syn == True	1
tcp.flags.syn == FALSE	0
tcp.flags.syn == true	!"true" cannot be found among the possible values for tcp.flags.syn.	17,21
!tcp.flags.ack	2
tcp.payload contains "GET"	1
tcp.payload contains 47:45:54	1
tcp.payload contains 47.45.54	1
tcp.payload contains 47-45-54	1
tcp.payload[0:3] == "GET"	1
tcp.payload[0:3] == 47:45:54	1
tcp.payload[:3] == "GET"	1
tcp.payload[0-2] == "GET"	1
tcp.payload[0] == 47	1
tcp.payload[-4:] == "/1.1"	1
tcp.payload[-4:4] == "/1.1"	1
tcp.payload[0:1,2:1] == "GT"	1
tcp.payload[4:] contains "index"	1
tcp.payload[100:2] == 00:00	0
tcp.payload matches "^get"	1
tcp.payload matches "(?-i)^get"	0
tcp.time_delta > 1	1
tcp.time_delta == 1.5	1
tcp.time_delta < 1.4	0
frame.time_relative > 1	2
frame.time_relative >= 1.5	2
frame.time_relative > abc	!"abc" is not a valid time.	22,25
frame.time >= "2012-03-16 14:47:10"	2
frame.time == "2012-03-16 14:47:09"	1
frame.time > "Mar 16, 2012 14:47:10.4"	2
frame.time < "Mar 16, 2012 14:47:10.6"	2
frame.time >= "garbage"	!"garbage" is not a valid absolute time. Example: "Nov 12, 1999 08:55:44.123" or "2011-07-04 12:34:56"	14,23
eth.src[0:3] == 00:0c:29	2
eth.dst == ff:ff:ff:ff:ff:ff	2
eth.dst == ff-ff-ff-ff-ff-ff	2
eth.dst == ffff.ffff.ffff	2
eth.src == 00:0c:29:aa:bb:cc	1
eth.addr == 00:0c:29:aa:bb:cc	!eth.addr is neither a field nor a protocol name.	0,8
eth.src == 00:11:22	!"00:11:22" contains too few bytes to be a valid Ethernet address.	11,19
eth.src == 00:11:22:33:44:55:66	!"00:11:22:33:44:55:66" contains too many bytes to be a valid Ethernet address.	11,31
eth.src == eth.dst	0
http.host == "Example.com"	1
http.host == "example.com"	0
http.host contains "ample"	1
http.host contains "AMPLE"	0
http.host matches "AMPLE"	1
http.host matches "^ex.*com$"	1
http.host ~ "example"	1
http.host matches r"\.com"	1
http.host matches "\\.org"	0
http.host == Example.com	1
http.host == "\x45xample.com"	1
http.host == "\105xample.com"	1
http.host == "\u0045xample.com"	1
http.host == "\q"	!\q is not a valid character escape sequence	14,16
http.host & 2	!FT_STRING cannot &.	0,9
http.host matches 5	!Matches requires a double quoted string on the right side.	18,19
http.request.uri matches "("	!Regex compilation error: missing closing parenthesis.
http.request.uri[0:6] == "/index"	1
lower(http.host) == "example.com"	1
upper(http.host) contains "EXAMPLE"	1
upper(http.host) == "Example.com"	0
len(http.host) == 11	1
len(http.host) > 20	0
len(tcp.port) == 2	1
count(ip.addr) == 4	1
count(ip.addr) == 2	1
count(ip) == 2	1
count(tcp) == 1	1
string(frame.number) == "2"	1
string(ip.src) == "10.0.0.1"	1
max(tcp.srcport, tcp.dstport) == 1234	1
min(tcp.srcport, tcp.dstport) == 80	1
abs(dns.ttl) == 5	1
dns.ttl == -5	1
dns.ttl < 0	1
lower(tcp.port) == "x"	!Only string type fields can be used as parameter for lower()	6,14
foo(tcp)	!Function 'foo' does not exist	0,3
len(http.host)	!You cannot test whether a function is present.	0,14
dns.qry.name contains ".org"	1
dns.qry.name contains ".xyz" or dns.qry.name contains ".top"	0
dns.qry.name matches "example\\.ORG$"	1
dns.qry.name == "a.Example.org"	1
dns	1
dns or http	2
not (dns or http)	1
!(tcp.len == 0)	!tcp.len is neither a field nor a protocol name.	2,9
http.hots	!http.hots is neither a field nor a protocol name.	0,9
"abc"	!"abc" is neither a field nor a protocol name.	0,5
80	!80 is neither a field nor a protocol name.	0,2
abc	!abc is neither a field nor a protocol name.	0,3
tcp.port == ${tcp.port}	0
.tcp.port == 80	1
udp.port == 53	1
udp.port == 53 && udp.port == 5353	1
udp.port === 53	0
udp.port !== 53	1
udp.port > 60000	0
any udp.port > 5000	1
all udp.port > 5000	0
all udp.port > 50	1
frame.number == 1 or frame.number == 2 and frame.len > 100	2
(frame.number == 1 or frame.number == 2) and frame.len > 100	1
not frame.number == 1 and not frame.number == 2	1
frame.number == 1 && (ip.ttl == 64 || ip.ttl == 1)	1
http.host == "Example.com" and tcp.port == 80	1
"#;

#[test]
fn filter_table() {
    let r = reg();
    let fs = frames(&r);
    let mut failures = Vec::new();
    let mut n = 0;
    for line in TABLE.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        n += 1;
        let mut parts = line.splitn(2, '\t');
        let expr = parts.next().unwrap_or("");
        let want = parts.next().unwrap_or("");
        let got = match Filter::compile(expr, &r) {
            Ok(f) => {
                let _: Vec<FieldId> = f.fields();
                fs.iter().filter(|t| f.matches(t)).count().to_string()
            }
            Err(e) => match e.span {
                Some((a, b)) => format!("!{}\t{a},{b}", e.message),
                None => format!("!{}", e.message),
            },
        };
        if got != want {
            failures.push(format!("{expr:?}: want {want:?}, got {got:?}"));
        }
    }
    assert!(n >= 200, "only {n} cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
