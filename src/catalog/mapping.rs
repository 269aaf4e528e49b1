//! How a processor's entities map to an upstream processor's entities, through the
//! source table (DOMAIN.md, "Root causes"): the same entity, or the value of a source
//! column on the entity's row that day (a player's `opponent_team_abbr` for TDZA).
//!
//! The catalog states the mapping per direct dependency; a transitive upstream's is the
//! composition along the paths to it, which must agree and hold at most one column (a
//! column is read on the downstream entity's source row, so two in a row cannot be
//! followed with one lookup).

use std::collections::BTreeMap;

use super::ProcessorId;

/// How an entity of a processor names the entity of one of its upstream processors.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntityMapping {
    /// The same entity (a player's player-level upstream).
    Same,
    /// The value of this source column on the entity's source row that day.
    Column(String),
}

impl EntityMapping {
    /// `self` (down to middle) followed by `next` (middle to up), if one lookup can do it.
    fn then(&self, next: &EntityMapping) -> Option<EntityMapping> {
        match (self, next) {
            (EntityMapping::Same, other) | (other, EntityMapping::Same) => Some(other.clone()),
            (EntityMapping::Column(_), EntityMapping::Column(_)) => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            EntityMapping::Same => "the same entity".into(),
            EntityMapping::Column(c) => format!("`{c}`"),
        }
    }
}

/// Every processor's mapping to each of its upstream processors, direct and transitive.
#[derive(Debug, Clone, Default)]
pub struct Mappings {
    /// Only the column mappings: any other upstream pair is [`EntityMapping::Same`].
    columns: BTreeMap<(ProcessorId, ProcessorId), String>,
}

impl Mappings {
    /// Composes the direct mappings (`direct[p]`: each dependency of `p` with its mapping)
    /// in run `order`; the reason, naming processors through `code`, when paths disagree or
    /// need two lookups.
    pub fn compose(
        direct: &[Vec<(ProcessorId, EntityMapping)>],
        order: &[ProcessorId],
        code: impl Fn(ProcessorId) -> String,
    ) -> Result<Mappings, String> {
        let mut reach: Vec<BTreeMap<ProcessorId, EntityMapping>> =
            vec![BTreeMap::new(); direct.len()];
        for &down in order {
            let mut mine: BTreeMap<ProcessorId, EntityMapping> = BTreeMap::new();
            for (middle, step) in &direct[down.0] {
                let through = std::iter::once((*middle, EntityMapping::Same))
                    .chain(reach[middle.0].iter().map(|(up, m)| (*up, m.clone())));
                for (up, rest) in through {
                    let composed = step.then(&rest).ok_or_else(|| {
                        format!(
                            "processor {} reaches {} through two entity mappings in a row ({} to {}, then {} to {}): state its own mapping on a direct dependency on {}",
                            code(down),
                            code(up),
                            step.describe(),
                            code(*middle),
                            rest.describe(),
                            code(up),
                            code(up)
                        )
                    })?;
                    match mine.get(&up) {
                        Some(existing) if *existing != composed => {
                            return Err(format!(
                                "processor {} maps its entities to {} in two ways ({} and {}, through {}): make its dependencies agree",
                                code(down),
                                code(up),
                                existing.describe(),
                                composed.describe(),
                                code(*middle)
                            ));
                        }
                        _ => {
                            mine.insert(up, composed);
                        }
                    }
                }
            }
            reach[down.0] = mine;
        }
        let columns = reach
            .into_iter()
            .enumerate()
            .flat_map(|(down, ups)| {
                ups.into_iter().filter_map(move |(up, m)| match m {
                    EntityMapping::Column(c) => Some(((ProcessorId(down), up), c)),
                    EntityMapping::Same => None,
                })
            })
            .collect();
        Ok(Mappings { columns })
    }

    /// The mapping of `down`'s entities to `up`'s (`up` upstream of `down`).
    pub fn of(&self, down: ProcessorId, up: ProcessorId) -> EntityMapping {
        match self.columns.get(&(down, up)) {
            Some(c) => EntityMapping::Column(c.clone()),
            None => EntityMapping::Same,
        }
    }

    /// Every source column a mapping reads.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.columns.values().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: usize) -> ProcessorId {
        ProcessorId(n)
    }

    fn code(p: ProcessorId) -> String {
        format!("P{}", p.0)
    }

    fn column(c: &str) -> EntityMapping {
        EntityMapping::Column(c.into())
    }

    #[test]
    fn a_column_composes_with_the_same_entity_either_way() {
        // P1 -> P0 by opponent; P2 -> P1 same; P2 -> P0 by opponent (agrees).
        let direct = vec![
            vec![],
            vec![(id(0), column("opponent"))],
            vec![(id(1), EntityMapping::Same), (id(0), column("opponent"))],
        ];
        let m = Mappings::compose(&direct, &[id(0), id(1), id(2)], code).unwrap();
        assert_eq!(m.of(id(2), id(0)), column("opponent"));
        assert_eq!(m.of(id(2), id(1)), EntityMapping::Same);
        assert_eq!(m.of(id(1), id(0)), column("opponent"));
    }

    #[test]
    fn paths_that_disagree_or_need_two_lookups_are_refused() {
        // P2 -> P0 directly by the same entity, but through P1 by opponent.
        let direct = vec![
            vec![],
            vec![(id(0), column("opponent"))],
            vec![(id(1), EntityMapping::Same), (id(0), EntityMapping::Same)],
        ];
        let e = Mappings::compose(&direct, &[id(0), id(1), id(2)], code).unwrap_err();
        assert!(e.contains("P2 maps its entities to P0 in two ways"), "{e}");
        let direct = vec![
            vec![],
            vec![(id(0), column("a"))],
            vec![(id(1), column("b"))],
        ];
        let e = Mappings::compose(&direct, &[id(0), id(1), id(2)], code).unwrap_err();
        assert!(e.contains("two entity mappings in a row"), "{e}");
    }
}
