//! The command line as a clap `Command`, from which `--generate` writes the
//! man page and the shell completions (as ripgrep does).
//!
//! `args.rs` parses on [`parsing_command`]: this definition with tshark's
//! options dorsal refuses, values that may start with `-` (`-r -`), bare
//! words (tshark's capture filter) and no value checks of clap's own, so
//! that every message is tshark's.

use clap::{Arg, ArgAction, Command};

/// Every option dorsal accepts, with its help line.
pub fn command() -> Command {
    let value = |short: char, name: &'static str, help: &'static str| {
        Arg::new(name)
            .short(short)
            .value_name(name)
            .action(ArgAction::Append)
            .help(help)
    };
    let flag = |short: char, name: &'static str, help: &'static str| {
        Arg::new(name)
            .short(short)
            .action(ArgAction::SetTrue)
            .help(help)
    };
    let long = |name: &'static str, value_name: &'static str, help: &'static str| {
        Arg::new(name)
            .long(name)
            .value_name(value_name)
            .action(ArgAction::Append)
            .help(help)
    };
    Command::new("dorsal")
        .version(env!("CARGO_PKG_VERSION"))
        .about("tshark-compatible packet capture analysis, many times faster")
        .long_about(
            "dorsal reads pcap and pcapng captures and prints what tshark 4.0.17 prints for the \
             same command line: fields, JSON, the one-line view, statistics, exported objects; \
             and beyond it Parquet, capture sets, credentials and the forensic report.",
        )
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(
            value('r', "infile", "read packets from a capture file, a folder of captures, or - (standard input); several -r are read as one stream in timestamp order")
                .value_hint(clap::ValueHint::AnyPath),
        )
        .arg(value('w', "outfile", "write the displayed packets to a capture file (- for standard output)").value_hint(clap::ValueHint::FilePath))
        .arg(value('F', "format", "the format -w writes").value_parser(["pcap", "pcapng", "nsecpcap"]))
        .arg(flag('P', "print-summary", "print the packet summary while writing (-w)"))
        .arg(value('Y', "display-filter", "packet display filter in Wireshark display filter syntax"))
        .arg(value('R', "read-filter", "packet read filter (with -2)"))
        .arg(flag('2', "two-pass", "perform a two-pass analysis"))
        .arg(flag('n', "no-resolve", "disable all name resolutions (the default)"))
        .arg(value('T', "output-format", "output format").value_parser(["fields", "json", "ek", "text", "parquet"]))
        .arg(value('e', "field", "field to print (repeatable); dorsal -G fields lists them"))
        .arg(value('E', "fields-option", "header=y|n, separator=/t|/s|<char>, occurrence=f|l|a, aggregator=,|/s|<char>, quote=d|s|n, bom=y|n"))
        .arg(value('c', "count", "stop after n displayed packets"))
        .arg(flag('l', "line-buffered", "flush standard output after each packet"))
        .arg(flag('q', "quiet", "be more quiet on stdout (e.g. when using statistics)"))
        .arg(value('z', "statistics", "io,phs | conv,TYPE | endpoints,TYPE | credentials"))
        .arg(value('t', "time-format", "time format of the one-line view: a|ad|adoy|d|dd|e|r|u|ud|udoy"))
        .arg(value('u', "seconds-format", "seconds type of the one-line view: s|hms"))
        .arg(value('j', "jobs", "worker threads (default: one per core)"))
        .arg(value('G', "glossary", "as first option: list the fields or protocols (fields|protocols|help)"))
        .arg(long("export-objects", "PROTOCOL,DIR", "save exported objects (http, smb, ftp-data) to a directory"))
        .arg(long("export-credentials", "FILE.csv", "write the credentials seen as CSV").value_hint(clap::ValueHint::FilePath))
        .arg(long("report", "DIR", "write the forensic report DIR/pcap_forensic_report.json and print its summary").value_hint(clap::ValueHint::DirPath))
        .arg(long("generate", "KIND", "print the man page or a completion script").value_parser(GENERATE))
        .arg(flag('h', "help", "display this help and exit").long("help"))
        .arg(flag('v', "version", "display version info and exit").long("version"))
}

/// tshark's short options dorsal does not implement, refused with a clear
/// message: those that take a value, then the flags.
const UNSUPPORTED_WITH_VALUE: &str = "oNdsfiaCHXWbBy";
const UNSUPPORTED_FLAGS: &str = "VxSDLpIQUgJ";

/// [`command`] as the parser uses it.
pub fn parsing_command() -> Command {
    let mut cmd = command().no_binary_name(false).arg(
        Arg::new("capture-filter")
            .num_args(0..)
            .hide(true)
            .trailing_var_arg(true),
    );
    for c in UNSUPPORTED_WITH_VALUE.chars() {
        cmd = cmd.arg(
            Arg::new(format!("unsupported-{c}"))
                .short(c)
                .action(ArgAction::Append)
                .hide(true),
        );
    }
    for c in UNSUPPORTED_FLAGS.chars() {
        cmd = cmd.arg(
            Arg::new(format!("unsupported-{c}"))
                .short(c)
                .action(ArgAction::Count)
                .hide(true),
        );
    }
    let ids: Vec<String> = cmd
        .get_arguments()
        .filter(|a| a.get_action().takes_values() && !a.is_positional())
        .map(|a| a.get_id().to_string())
        .collect();
    for id in ids {
        cmd = cmd.mut_arg(id, |a| {
            a.allow_hyphen_values(true)
                .value_parser(clap::builder::OsStringValueParser::new())
        });
    }
    cmd
}

/// What `--generate` writes.
pub const GENERATE: [&str; 5] = [
    "man",
    "complete-bash",
    "complete-zsh",
    "complete-fish",
    "complete-powershell",
];

/// Writes the man page or a completion script; `false` for an unknown kind.
pub fn generate(kind: &str, out: &mut dyn std::io::Write) -> std::io::Result<bool> {
    use clap_complete::Shell;
    let mut cmd = command();
    let shell = match kind {
        "man" => {
            clap_mangen::Man::new(cmd).render(out)?;
            return Ok(true);
        }
        "complete-bash" => Shell::Bash,
        "complete-zsh" => Shell::Zsh,
        "complete-fish" => Shell::Fish,
        "complete-powershell" => Shell::PowerShell,
        _ => return Ok(false),
    };
    clap_complete::generate(shell, &mut cmd, "dorsal", out);
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_commands_are_well_formed() {
        let cmd = command();
        cmd.debug_assert();
        parsing_command().debug_assert();
        // debug_assert checks nothing in optimised test builds: ids by hand.
        let cmd = parsing_command();
        let mut ids: Vec<&str> = cmd.get_arguments().map(|a| a.get_id().as_str()).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "two options share an id");
        let mut shorts: Vec<char> = cmd.get_arguments().filter_map(Arg::get_short).collect();
        shorts.sort_unstable();
        shorts.dedup();
        assert_eq!(
            shorts.len(),
            cmd.get_arguments().filter_map(Arg::get_short).count()
        );
    }

    #[test]
    fn generates_each_kind() {
        for kind in GENERATE {
            let mut out = Vec::new();
            assert!(generate(kind, &mut out).expect("write"), "{kind}");
            assert!(out.len() > 500, "{kind}");
        }
        assert!(!generate("complete-tcsh", &mut Vec::new()).expect("write"));
    }
}
