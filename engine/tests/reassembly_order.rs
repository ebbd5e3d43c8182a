//! Property: once the first segment of a PDU has been seen (it tells the
//! application's length), the rest of its segments may arrive in any order
//! and be repeated any number of times; the application still receives the
//! same bytes, once, on the frame that completes the PDU.

#![allow(clippy::indexing_slicing)] // test code over lengths it built itself

use dorsal_engine::dissect::Outcome;
use dorsal_engine::flow::{Budget, Direction};
use proptest::prelude::*;

/// A length-prefixed application: one byte of length, then the body.
fn length_prefixed(data: &[u8], got: &mut Vec<Vec<u8>>) -> Outcome {
    let Some(&n) = data.first() else {
        return Outcome::Done(0);
    };
    let n = usize::from(n);
    if data.len() < 1 + n {
        return Outcome::NeedMore {
            offset: 0,
            more: Some(1 + n - data.len()),
        };
    }
    got.push(data[1..1 + n].to_vec());
    Outcome::Done(1 + n)
}

/// Feeds `order` (indices into `segs`, the first one first) and returns what
/// was delivered, with the frame it was delivered on.
fn deliver(segs: &[(u32, Vec<u8>)], order: &[usize]) -> Vec<(u32, Vec<u8>)> {
    let budget = Budget::new(1 << 20);
    let mut dir = Direction::default();
    let mut out = Vec::new();
    for (i, &k) in order.iter().enumerate() {
        let frame = i as u32 + 1;
        let (seq, bytes) = &segs[k];
        let mut got = Vec::new();
        dir.segment(&budget, frame, *seq, bytes, true, &mut |b, _| {
            length_prefixed(b, &mut got)
        });
        out.extend(got.into_iter().map(|g| (frame, g)));
    }
    out
}

proptest! {
    #[test]
    fn any_order_of_the_following_segments_gives_the_same_pdu(
        body in proptest::collection::vec(any::<u8>(), 2..200),
        cuts in proptest::collection::vec(1usize..50, 1..8),
        shuffle in proptest::collection::vec(any::<u32>(), 16),
        repeats in proptest::collection::vec(0usize..16, 0..4),
    ) {
        let body = &body[..body.len().min(255)];
        let mut pdu = vec![body.len() as u8];
        pdu.extend_from_slice(body);
        // Split the PDU into segments at the cut points.
        let mut segs = Vec::new();
        let mut at = 0usize;
        for c in &cuts {
            if at + c >= pdu.len() {
                break;
            }
            segs.push((1 + at as u32, pdu[at..at + c].to_vec()));
            at += c;
        }
        segs.push((1 + at as u32, pdu[at..].to_vec()));

        // The first segment first, then the rest permuted, with some repeated.
        let mut rest: Vec<usize> = (1..segs.len()).collect();
        for (i, r) in shuffle.iter().enumerate() {
            let n = rest.len();
            if n > 1 {
                rest.swap(i % n, (*r as usize) % n);
            }
        }
        let mut order = vec![0];
        order.extend(&rest);
        for r in &repeats {
            if segs.len() > 1 {
                let pos = 1 + r % (order.len() - 1);
                let dup = order[pos];
                order.insert(pos, dup);
            }
        }

        let in_order: Vec<usize> = (0..segs.len()).collect();
        let expected = deliver(&segs, &in_order);
        prop_assert_eq!(expected.len(), 1);
        prop_assert_eq!(&expected[0].1, &body.to_vec());

        let got = deliver(&segs, &order);
        prop_assert_eq!(got.len(), 1, "order {:?}", order);
        prop_assert_eq!(&got[0].1, &body.to_vec());
        // Delivered on the frame that brought the last missing piece.
        let mut seen = vec![false; segs.len()];
        let mut completing = 0;
        for (i, &k) in order.iter().enumerate() {
            if !seen[k] {
                seen[k] = true;
                if seen.iter().all(|&s| s) {
                    completing = i as u32 + 1;
                }
            }
        }
        prop_assert_eq!(got[0].0, completing);
    }
}
