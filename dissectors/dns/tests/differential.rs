//! Differential and robustness properties: messages built and parsed by
//! `simple-dns` must decode to the same names, types, TTLs and addresses
//! with dorsal's parser; arbitrary bytes must never panic it.

use dorsal_dns::parser::{read_name, Item, Name, Reader};
use proptest::prelude::*;
use simple_dns::rdata::{RData, A, AAAA, MX};
use simple_dns::{Packet, Question, ResourceRecord, CLASS, QCLASS, QTYPE, TYPE};

fn label() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9-]{0,14}"
}

fn domain() -> impl Strategy<Value = String> {
    prop::collection::vec(label(), 1..4).prop_map(|l| l.join("."))
}

#[derive(Clone, Debug)]
enum Rec {
    A(u32),
    Aaaa(u128),
    Cname(String),
    Mx(u16, String),
}

fn rec() -> impl Strategy<Value = Rec> {
    prop_oneof![
        any::<u32>().prop_map(Rec::A),
        any::<u128>().prop_map(Rec::Aaaa),
        domain().prop_map(Rec::Cname),
        (any::<u16>(), domain()).prop_map(|(p, d)| Rec::Mx(p, d)),
    ]
}

fn text(n: &Name) -> String {
    String::from_utf8_lossy(n.as_bytes()).into_owned()
}

proptest! {
    #[test]
    fn agrees_with_simple_dns(
        id in any::<u16>(),
        qname in domain(),
        owners in prop::collection::vec(domain(), 0..6),
        recs in prop::collection::vec((rec(), any::<u32>()), 0..6),
        compressed in any::<bool>(),
    ) {
        let mut p = Packet::new_reply(id);
        p.questions.push(Question::new(
            simple_dns::Name::new_unchecked(&qname),
            QTYPE::TYPE(TYPE::A),
            QCLASS::CLASS(CLASS::IN),
            false,
        ));
        for (i, (r, ttl)) in recs.iter().enumerate() {
            let owner = owners.get(i).unwrap_or(&qname);
            let rdata = match r {
                Rec::A(a) => RData::A(A { address: *a }),
                Rec::Aaaa(a) => RData::AAAA(AAAA { address: *a }),
                Rec::Cname(d) => RData::CNAME(simple_dns::Name::new_unchecked(d).into()),
                Rec::Mx(pref, d) => RData::MX(MX {
                    preference: *pref,
                    exchange: simple_dns::Name::new_unchecked(d),
                }),
            };
            p.answers.push(ResourceRecord::new(
                simple_dns::Name::new_unchecked(owner),
                CLASS::IN,
                *ttl,
                rdata,
            ));
        }
        let bytes = if compressed {
            p.build_bytes_vec_compressed()
        } else {
            p.build_bytes_vec()
        };
        let bytes = bytes.map_err(|e| TestCaseError::fail(format!("build: {e}")))?;
        let theirs = Packet::parse(&bytes).map_err(|e| TestCaseError::fail(format!("parse: {e}")))?;

        let (h, reader) = Reader::new(&bytes).ok_or_else(|| TestCaseError::fail("header"))?;
        prop_assert_eq!(h.id, theirs.id());
        prop_assert!(h.is_response());
        let items: Vec<Item> = reader.collect::<Result<_, _>>()
            .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(items.len(), theirs.questions.len() + theirs.answers.len());
        let mut n = Name::default();
        let mut answers = theirs.answers.iter();
        for item in &items {
            match item {
                Item::Question(q) => {
                    let tq = theirs.questions.first().ok_or_else(|| TestCaseError::fail("q"))?;
                    read_name(&bytes, q.name_off, &mut n).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                    prop_assert_eq!(text(&n), tq.qname.to_string());
                    prop_assert_eq!(q.qtype, 1);
                }
                Item::Record(r) => {
                    let tr = answers.next().ok_or_else(|| TestCaseError::fail("extra record"))?;
                    read_name(&bytes, r.name_off, &mut n).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                    prop_assert_eq!(text(&n), tr.name.to_string());
                    prop_assert_eq!(r.ttl, tr.ttl);
                    let data = r.rdata(&bytes).ok_or_else(|| TestCaseError::fail("rdata"))?;
                    match &tr.rdata {
                        RData::A(a) => {
                            prop_assert_eq!(r.rtype, 1);
                            prop_assert_eq!(data, &a.address.to_be_bytes()[..]);
                        }
                        RData::AAAA(a) => {
                            prop_assert_eq!(r.rtype, 28);
                            prop_assert_eq!(data, &a.address.to_be_bytes()[..]);
                        }
                        RData::CNAME(c) => {
                            prop_assert_eq!(r.rtype, 5);
                            read_name(&bytes, r.rdata_off, &mut n).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                            prop_assert_eq!(text(&n), c.0.to_string());
                        }
                        RData::MX(m) => {
                            prop_assert_eq!(r.rtype, 15);
                            prop_assert_eq!(data.get(..2), Some(&m.preference.to_be_bytes()[..]));
                            read_name(&bytes, r.rdata_off + 2, &mut n).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                            prop_assert_eq!(text(&n), m.exchange.to_string());
                        }
                        other => prop_assert!(false, "unexpected {:?}", other),
                    }
                }
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Some((_, reader)) = Reader::new(&bytes) {
            let mut n = Name::default();
            for item in reader {
                let Ok(item) = item else { break };
                let off = match item {
                    Item::Question(q) => q.name_off,
                    Item::Record(r) => r.rdata_off,
                };
                let _ = read_name(&bytes, off, &mut n);
                prop_assert!(n.len() <= 255 + 40);
            }
        }
    }
}
