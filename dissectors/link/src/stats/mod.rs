//! The `-z` statistics of the link, network and transport layers:
//! conversations and endpoints of Ethernet, IPv4, IPv6, TCP and UDP.

mod conversations;
mod rows;

use dorsal_engine::fields::Registry;
use dorsal_engine::taps::{compile, Stat, Tap, TapError};

pub use conversations::{Conversations, Endpoints, Kind};

/// `-z conv,TYPE[,FILTER]` and `-z endpoints,TYPE[,FILTER]`.
pub const STATS: &[Stat] = &[Stat {
    names: &[
        "conv,eth",
        "conv,ip",
        "conv,ipv6",
        "conv,tcp",
        "conv,udp",
        "endpoints,eth",
        "endpoints,ip",
        "endpoints,ipv6",
        "endpoints,tcp",
        "endpoints,udp",
    ],
    parse,
}];

type Parsed = Option<Result<(Box<dyn Tap>, Option<dorsal_engine::dfilter::Filter>), TapError>>;

fn parse(spec: &str, reg: &Registry) -> Parsed {
    let (rest, endpoints) = match spec.strip_prefix("conv,") {
        Some(r) => (r, false),
        None => (spec.strip_prefix("endpoints,")?, true),
    };
    let (kind, filter) = match rest.split_once(',') {
        Some((k, f)) => (k, Some(f)),
        None => (rest, None),
    };
    let Some(kind) = Kind::from_name(kind) else {
        return Some(Err(TapError::Unknown));
    };
    let what = if endpoints {
        "endpoint"
    } else {
        "conversations"
    };
    Some(compile(filter, reg, what).map(|compiled| {
        let filter = filter.map(str::to_string);
        let tap: Box<dyn Tap> = if endpoints {
            Box::new(Endpoints::new(kind, reg, filter))
        } else {
            Box::new(Conversations::new(kind, reg, filter))
        };
        (tap, compiled)
    }))
}
