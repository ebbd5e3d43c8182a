//! `-G fields` and `-G protocols`: every field `-e` accepts is listed, in
//! tshark's glossary format, and `-G` keeps tshark's rules.

mod common;

use common::dorsal;
use dorsal_engine::fields::FieldType;
use dorsal_engine::protocol::Protocols;

#[test]
fn fields_lists_every_field_with_its_type_and_parent() {
    let out = dorsal(&["-G", "fields"], None);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("utf8");
    let rows: std::collections::HashMap<&str, Vec<&str>> = text
        .lines()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter_map(|c| Some((*c.get(2)?, c)))
        .collect();
    let (_, reg) = Protocols::new(dorsal::PROTOCOLS);
    assert!(reg.len() > 100);
    for (_, d) in reg.iter() {
        let row = rows
            .get(d.abbrev)
            .unwrap_or_else(|| panic!("{} not listed", d.abbrev));
        if d.ftype == FieldType::Protocol {
            assert_eq!(row.first(), Some(&"P"), "{}", d.abbrev);
        } else {
            assert_eq!(row.len(), 8, "{}", d.abbrev);
            assert_eq!(row.get(3), Some(&d.ftype.wireshark_name()), "{}", d.abbrev);
        }
    }
    // Parents as tshark lists them: the longest protocol prefix, or the
    // protocol a field names.
    assert_eq!(rows["ip.src"].get(4), Some(&"ip"));
    assert_eq!(rows["tcp.analysis.flags"].get(4), Some(&"tcp"));
    assert_eq!(rows["ftp-data.command"].get(4), Some(&"ftp"));
    assert_eq!(rows["tcp.flags.syn"].get(6), Some(&"0x2"));
}

#[test]
fn protocols_and_the_rules_of_g() {
    let out = dorsal(&["-G", "protocols"], None);
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(text.lines().any(|l| l.ends_with("\tdns")), "{text}");
    assert!(text.lines().all(|l| l.split('\t').count() == 3));

    // Without a report, tshark lists the fields.
    let bare = dorsal(&["-G"], None);
    assert_eq!(bare.stdout, dorsal(&["-G", "fields"], None).stdout);

    let bad = dorsal(&["-G", "bogus"], None);
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&bad.stderr),
        "dorsal: Invalid \"bogus\" option for -G flag, enter -G help for more help.\n"
    );

    let late = dorsal(&["-r", "x.pcap", "-G", "fields"], None);
    assert_eq!(late.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&late.stderr),
        "dorsal: -G only valid as first option\n"
    );
}

#[test]
fn generates_a_man_page_and_completions() {
    let man = dorsal(&["--generate", "man"], None);
    assert_eq!(man.status.code(), Some(0));
    let text = String::from_utf8(man.stdout).expect("utf8");
    assert!(text.starts_with(".ie") || text.starts_with(".TH"), "{text}");
    assert!(text.contains("export\\-objects"));
    let bash = dorsal(&["--generate=complete-bash"], None);
    assert!(String::from_utf8_lossy(&bash.stdout).contains("complete -F _dorsal"));
    let bad = dorsal(&["--generate", "tcsh"], None);
    assert_eq!(bad.status.code(), Some(1));
}
