//! Triage: what every command does with a case that shows a finding. Check it, reduce it
//! while its group signature holds, look for the respelling that works around it, and gather
//! what a reproducer needs. `check`, `reduce`, `repro`, `import-artifact` and campaigns all
//! go through here, so they agree on what a finding is.

use crate::ir::{Case, Probe, SpecApi};
use crate::oracle::{self, Backend, CheckResult, Class, Pool, Twin};
use crate::reduce::{Reduced, Reducer};
use std::sync::atomic::{AtomicU64, Ordering};

/// Tries every other spelling of the culprit node; the first whose check shows neither a bug
/// nor a portability finding, and that gives eager's outputs of the original (values,
/// shapes, dtypes) at the export sizes and every probe, is the workaround (what the seed
/// document calls "how to fix it"). A respelling that exports cleanly but computes
/// something else is no fix.
pub fn find_workaround(
    pool: &Pool,
    backend: Backend,
    case: &Case,
    check: &CheckResult,
) -> Option<Case> {
    let node = check.cause()?.node? as usize;
    for alt in case.nodes.get(node)?.respellings() {
        let mut c = case.clone();
        c.nodes[node] = alt;
        if c.validate().is_err() {
            continue;
        }
        let r = oracle::check_on(pool, &c, backend);
        let clean = r.verdict == oracle::Verdict::Pass
            || r.findings
                .iter()
                .all(|f| f.class() == Some(Class::Expected));
        if clean && oracle::eager_agree(pool, case, &c).is_ok() {
            return Some(c);
        }
    }
    None
}

/// Checks the finding's model under the other spec API ([`Case::in_spec_api`]) on the same
/// backend, probing it also at the finding's sizes. None when the spec has no twin, or
/// when the backend is a step on the exported program or torch.compile: their findings are
/// the step's, which the other API's program does not take.
pub fn check_twin(pool: &Pool, backend: Backend, case: &Case, check: &CheckResult) -> Option<Twin> {
    if !matches!(backend, Backend::Export | Backend::ExportStrict) {
        return None;
    }
    // AdditionalInputs' twin is its inferred `Dim.DYNAMIC` spec, given as it is; a
    // ShapesCollection's is the dict torch promises to build from it, so any difference is
    // the collection's
    let other = match case.spec_api() {
        SpecApi::Dim => SpecApi::Shapes,
        SpecApi::Shapes | SpecApi::Additional | SpecApi::Collection => SpecApi::Dim,
    };
    let mut twin = case.in_spec_api(other)?;
    let found = check.primary()?;
    let probe = found
        .probe
        .clone()
        .filter(|p| p.len() == case.symbol_count() && *p != case.export);
    if let Some(p) = &probe
        && !twin.probes.iter().any(|q| q.sizes == *p)
    {
        let mut with = twin.clone();
        with.probes.push(Probe {
            sizes: p.clone(),
            edge: p.iter().any(|&n| n < 2),
        });
        if with.validate().is_ok() {
            twin = with;
        }
    }
    let (r, outcome) = oracle::check_keeping_outcome(pool, &twin, backend);
    let at_probe = probe
        .as_ref()
        .and_then(|p| oracle::outcome_at(&twin, &outcome, p))
        .map(|e| e.outcome().to_string());
    let node = |f: &oracle::Finding| f.cause.as_ref().and_then(|c| c.node);
    let same_culprit = r.primary().is_some_and(|t| match (node(t), node(found)) {
        (Some(a), Some(b)) => a == b,
        (None, None) => t.verdict == found.verdict && t.kind == found.kind,
        _ => false,
    });
    Some(Twin {
        api: other,
        verdict: r.verdict,
        contract: r.contract(),
        message: r.message().to_string(),
        same_culprit,
        at_probe,
    })
}

/// Reduces a case while it keeps its group signature and its root cause. `first` is the check the caller
/// already has of `case`, if any. `jobs` candidates are checked at once (a campaign reducing
/// several groups side by side gives each one). `on_new_smallest` sees every new smallest
/// case.
#[allow(clippy::too_many_arguments)]
pub fn reduce<'a>(
    pool: &Pool,
    backend: Backend,
    case: &Case,
    first: Option<CheckResult>,
    max_tests: usize,
    jobs: usize,
    on_new_smallest: impl FnMut(&Case, &CheckResult) -> anyhow::Result<()> + 'a,
    stop: Option<&'a std::sync::atomic::AtomicBool>,
) -> anyhow::Result<Reduced<CheckResult>> {
    let first = match first {
        Some(r) => r,
        None => oracle::check_on(pool, case, backend),
    };
    let Some(target) = first.signature() else {
        anyhow::bail!(
            "the case shows no finding ({}); there is nothing to reduce",
            first.verdict.name()
        );
    };
    if !first.verdict.is_finding() {
        anyhow::bail!(
            "the case cannot be judged ({}: {}); there is nothing to reduce",
            first.verdict.name(),
            first.message()
        );
    }
    // The record shows one torch mechanism: a candidate that keeps the signature through
    // another root cause (another guard of the same op and site) is not the same finding.
    let cause = first.root_cause();
    let busy_us = AtomicU64::new(0);
    Reducer::new(jobs.max(1))
        .only_if(can_keep_culprit(&first))
        .max_tests(max_tests)
        .on_new_smallest(on_new_smallest)
        .stop_on(stop)
        .run(case, Some(first), |c| {
            let r = oracle::check_on(pool, c, backend);
            busy_us.fetch_add((r.timings.busy_s() * 1e6) as u64, Ordering::Relaxed);
            (r.signature().as_deref() == Some(target.as_str()) && r.root_cause() == cause)
                .then_some(r)
        })
        .map(|mut r| {
            r.busy_seconds = busy_us.load(Ordering::Relaxed) as f64 / 1e6;
            r
        })
}

/// Whether a candidate can still show `check`'s signature, which names the culprit node's
/// op and spelling: a case without such a node cannot, and costs a reduction no oracle
/// call. Everything can when the finding has no culprit node.
pub fn can_keep_culprit(check: &CheckResult) -> impl Fn(&Case) -> bool + Sync + use<> {
    let culprit = check
        .cause()
        .and_then(|c| Some((c.op.clone()?, c.spelling.clone())));
    move |c: &Case| {
        culprit.as_ref().is_none_or(|(op, spelling)| {
            c.nodes
                .iter()
                .any(|n| n.kind() == *op && n.spelling_name() == spelling.as_deref())
        })
    }
}
