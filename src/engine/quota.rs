//! Quotas and cut-offs: `rounding(share × base)` places taken in ranking order, with the tie
//! rule at the cut-off; the same mechanism serves award staff parts, training and grades.

use crate::rubric::{QuotaBase, Rounding, Ties};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// A candidate in ranking order: id and rank (equal ranks are ties on every key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The person's place in the period's listing (`PeriodResult::people`, and the
    /// standings the candidates come from): a number, so that a rule open to half a million
    /// people copies no names.
    pub place: usize,
    pub rank: u32,
}

/// People tied across a cut-off and what the tie rule did with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TieAtCut {
    pub rank: u32,
    pub ids: Vec<String>,
    pub included: bool,
}

/// The arithmetic of one quota and the cut it made.
#[derive(Debug, Clone, PartialEq)]
pub struct Cut {
    pub share: Decimal,
    pub base_kind: QuotaBase,
    pub base: usize,
    pub product: Decimal,
    pub rounding: Rounding,
    pub quota: usize,
    /// Candidates in ranking order.
    pub candidates: Vec<Candidate>,
    /// How many of the candidates (from the top) are taken.
    pub taken: usize,
    pub tie: Option<TieAtCut>,
}

impl Cut {
    /// The places (see `Candidate::place`) of the candidates taken.
    pub fn taken_places(&self) -> impl Iterator<Item = usize> + '_ {
        self.candidates[..self.taken].iter().map(|c| c.place)
    }
}

/// `rounding(share × base)` as a count.
pub fn quota(share: Decimal, base: usize, rounding: Rounding) -> (Decimal, usize) {
    let product = share * Decimal::from(base);
    let rounded = rounding.apply(product);
    (product, rounded.to_usize().unwrap_or(0))
}

/// Moves a cut position over a tie: `include` takes everyone tied with the person at the
/// cut-off, `exclude` none of them. Returns the new position and the tie, if any.
/// `id` names the person at a listing place (for the tie's ids).
pub fn settle(
    candidates: &[Candidate],
    position: usize,
    ties: Ties,
    id: &dyn Fn(usize) -> String,
) -> (usize, Option<TieAtCut>) {
    if position == 0 || position >= candidates.len() || candidates[position - 1].rank != candidates[position].rank {
        return (position.min(candidates.len()), None);
    }
    let rank = candidates[position - 1].rank;
    let start = candidates.iter().position(|c| c.rank == rank).unwrap_or(position);
    let end = candidates.iter().rposition(|c| c.rank == rank).map_or(position, |e| e + 1);
    let ids = candidates[start..end].iter().map(|c| id(c.place)).collect();
    match ties {
        Ties::Include => (end, Some(TieAtCut { rank, ids, included: true })),
        Ties::Exclude => (start, Some(TieAtCut { rank, ids, included: false })),
    }
}

/// Takes the first `rounding(share × base)` candidates, settled by the tie rule.
pub fn select(
    candidates: Vec<Candidate>,
    share: Decimal,
    base_kind: QuotaBase,
    base: usize,
    rounding: Rounding,
    ties: Ties,
    id: &dyn Fn(usize) -> String,
) -> Cut {
    let (product, quota) = quota(share, base, rounding);
    let (taken, tie) = settle(&candidates, quota, ties, id);
    Cut { share, base_kind, base, product, rounding, quota, candidates, taken, tie }
}

/// One excellence band's slice of the candidates.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub name: String,
    /// Position (exclusive) where the band ends before ties, and after.
    pub quota_end: usize,
    pub start: usize,
    pub end: usize,
    pub cumulative: Decimal,
    pub tie: Option<TieAtCut>,
}

/// Splits ranked candidates into bands: band i ends at `rounding(cumulative share × n)`,
/// moved by the tie rule; the last band takes the rest.
pub fn bands(
    candidates: &[Candidate],
    grades: &[(String, Decimal)],
    rounding: Rounding,
    ties: Ties,
    id: &dyn Fn(usize) -> String,
) -> Vec<Band> {
    let n = candidates.len();
    let mut out = Vec::new();
    let mut start = 0;
    let mut cumulative = Decimal::ZERO;
    for (i, (name, share)) in grades.iter().enumerate() {
        let last = i + 1 == grades.len();
        cumulative += *share;
        let (quota_end, end, tie) = if last {
            (n, n, None)
        } else {
            let (_, q) = quota(cumulative, n, rounding);
            let q = q.clamp(start, n);
            let (end, tie) = settle(candidates, q, ties, id);
            (q, end.max(start), tie)
        };
        out.push(Band { name: name.clone(), quota_end, start, end, cumulative, tie });
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn ranked(ranks: &[u32]) -> Vec<Candidate> {
        ranks.iter().enumerate().map(|(place, &rank)| Candidate { place, rank }).collect()
    }

    fn id(place: usize) -> String {
        format!("p{place}")
    }

    #[test]
    fn quota_rounds_share_times_base() {
        assert_eq!(quota(d("0.30"), 9, Rounding::HalfUp), (d("2.70"), 3));
        assert_eq!(quota(d("0.50"), 5, Rounding::HalfUp), (d("2.50"), 3));
        assert_eq!(quota(d("0.50"), 5, Rounding::Floor).1, 2);
        assert_eq!(quota(d("0.3"), 10, Rounding::Floor).1, 3);
        assert_eq!(quota(d("0.21"), 10, Rounding::Ceil).1, 3);
        assert_eq!(quota(d("0"), 10, Rounding::Ceil).1, 0);
    }

    #[test]
    fn a_tie_at_the_cut_off_is_included_or_excluded_whole() {
        // ranks 1, 2, 3, 3, 5 with a quota of 3: the 3rd and 4th tie.
        let c = ranked(&[1, 2, 3, 3, 5]);
        let inc = select(c.clone(), d("0.6"), QuotaBase::Eligible, 5, Rounding::HalfUp, Ties::Include, &id);
        assert_eq!((inc.quota, inc.taken), (3, 4));
        assert_eq!(inc.tie.unwrap().ids, ["p2", "p3"]);
        let exc = select(c, d("0.6"), QuotaBase::Eligible, 5, Rounding::HalfUp, Ties::Exclude, &id);
        assert_eq!((exc.quota, exc.taken), (3, 2));
        assert!(!exc.tie.unwrap().included);
    }

    #[test]
    fn no_tie_when_the_next_person_ranks_lower() {
        let cut = select(ranked(&[1, 1, 3]), d("0.67"), QuotaBase::Eligible, 3, Rounding::HalfUp, Ties::Exclude, &id);
        assert_eq!((cut.quota, cut.taken, cut.tie), (2, 2, None));
    }

    #[test]
    fn quota_beyond_the_candidates_takes_them_all() {
        let cut = select(ranked(&[1, 2]), d("1"), QuotaBase::Headcount, 9, Rounding::HalfUp, Ties::Include, &id);
        assert_eq!((cut.quota, cut.taken), (9, 2));
    }

    #[test]
    fn bands_use_cumulative_shares_and_move_with_ties() {
        let c = ranked(&[1, 2, 2, 4, 5, 6, 7, 8, 9, 10]);
        let grades =
            vec![("优秀".to_string(), d("0.2")), ("良好".to_string(), d("0.3")), ("合格".to_string(), d("0.5"))];
        let inc = bands(&c, &grades, Rounding::HalfUp, Ties::Include, &id);
        assert_eq!(inc.iter().map(|b| (b.start, b.end)).collect::<Vec<_>>(), [(0, 3), (3, 5), (5, 10)]);
        let exc = bands(&c, &grades, Rounding::HalfUp, Ties::Exclude, &id);
        assert_eq!(exc.iter().map(|b| (b.start, b.end)).collect::<Vec<_>>(), [(0, 1), (1, 5), (5, 10)]);
    }
}
