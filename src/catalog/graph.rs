//! The dependency graph of the catalog's processors: run order, transitive upstream,
//! depth, a named cycle. Every algorithm here is iterative (no recursion to overflow).
//! Kahn's order is O((V + E) log V). The transitive closure is quadratic in the
//! processors: O(E * V / 64) bit operations, and up to V * (V - 1) / 2 upstream entries
//! (a chain). The catalog's limit of 1,000 processors bounds that at half a million
//! entries, built in milliseconds; the scheduler does not use the closure for its edges.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::ProcessorId;

/// The graph's derived facts, computed once when the catalog loads.
#[derive(Debug, Clone)]
pub struct Graph {
    /// Dependency order (upstream first), ties broken by catalog order.
    pub order: Vec<ProcessorId>,
    /// Each processor's position in `order`.
    pub rank: Vec<usize>,
    /// Every processor's upstream, direct and transitive, in catalog order.
    pub upstream: Vec<Vec<ProcessorId>>,
    /// The same as bit sets, for O(1) `is_upstream`.
    upstream_bits: Vec<Vec<u64>>,
    /// Longest chain of dependencies above each processor (0 for sources).
    pub depth: Vec<usize>,
}

impl Graph {
    /// The graph of `depends_on` (each processor's direct upstream, by index). A cycle is
    /// an error naming it, e.g. `dependency cycle: A -> B -> A`, with `code` naming a
    /// processor.
    pub fn new(
        depends_on: &[Vec<ProcessorId>],
        code: impl Fn(usize) -> String,
    ) -> Result<Graph, String> {
        let order = topological_order(depends_on)
            .map_err(|stuck| describe_cycle(depends_on, &stuck, &code))?;
        let n = depends_on.len();
        let words = n.div_ceil(64);
        let mut upstream_bits = vec![vec![0u64; words]; n];
        let mut depth = vec![0usize; n];
        for &ProcessorId(v) in &order {
            let mut bits = vec![0u64; words];
            for &ProcessorId(d) in &depends_on[v] {
                bits[d / 64] |= 1 << (d % 64);
                for (word, up) in bits.iter_mut().zip(&upstream_bits[d]) {
                    *word |= up;
                }
                depth[v] = depth[v].max(depth[d] + 1);
            }
            upstream_bits[v] = bits;
        }
        let upstream = upstream_bits
            .iter()
            .map(|bits| {
                (0..n)
                    .filter(|&i| bits[i / 64] & (1 << (i % 64)) != 0)
                    .map(ProcessorId)
                    .collect()
            })
            .collect();
        let mut rank = vec![0; order.len()];
        for (i, id) in order.iter().enumerate() {
            rank[id.0] = i;
        }
        Ok(Graph {
            order,
            rank,
            upstream,
            upstream_bits,
            depth,
        })
    }

    /// Is `up` upstream of `down`, directly or transitively?
    pub fn is_upstream(&self, up: ProcessorId, down: ProcessorId) -> bool {
        self.upstream_bits
            .get(down.0)
            .and_then(|bits| bits.get(up.0 / 64))
            .is_some_and(|word| word & (1 << (up.0 % 64)) != 0)
    }
}

/// Kahn's algorithm, the smallest catalog index first among the ready ones. `Err` holds
/// whether each processor was ordered when it got stuck on a cycle.
fn topological_order(depends_on: &[Vec<ProcessorId>]) -> Result<Vec<ProcessorId>, Vec<bool>> {
    let n = depends_on.len();
    let mut waiting_on: Vec<usize> = depends_on.iter().map(Vec::len).collect();
    let mut downstream: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (v, deps) in depends_on.iter().enumerate() {
        for &ProcessorId(d) in deps {
            downstream[d].push(v);
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..n)
        .filter(|&v| waiting_on[v] == 0)
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(n);
    let mut done = vec![false; n];
    while let Some(Reverse(v)) = ready.pop() {
        done[v] = true;
        order.push(ProcessorId(v));
        for &w in &downstream[v] {
            waiting_on[w] -= 1;
            if waiting_on[w] == 0 {
                ready.push(Reverse(w));
            }
        }
    }
    if order.len() == n {
        Ok(order)
    } else {
        Err(done)
    }
}

/// Walks unfinished dependencies from the first unfinished processor until one repeats:
/// every unfinished processor waits on another unfinished one, so the walk finds a cycle.
fn describe_cycle(
    depends_on: &[Vec<ProcessorId>],
    done: &[bool],
    code: &impl Fn(usize) -> String,
) -> String {
    let Some(start) = done.iter().position(|d| !d) else {
        return "dependency cycle".into();
    };
    let mut position: Vec<Option<usize>> = vec![None; depends_on.len()];
    let mut path = vec![start];
    position[start] = Some(0);
    let mut current = start;
    while let Some(&ProcessorId(next)) = depends_on[current].iter().find(|d| !done[d.0]) {
        if let Some(at) = position[next] {
            let mut cycle: Vec<String> = path[at..].iter().map(|&i| code(i)).collect();
            cycle.push(code(next));
            return format!("dependency cycle: {}", cycle.join(" -> "));
        }
        position[next] = Some(path.len());
        path.push(next);
        current = next;
    }
    "dependency cycle".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[usize]) -> Vec<ProcessorId> {
        list.iter().copied().map(ProcessorId).collect()
    }

    #[test]
    fn order_closure_and_depth_of_a_diamond() {
        // 0 <- 1, 0 <- 2, {1, 2} <- 3
        let deps = vec![ids(&[]), ids(&[0]), ids(&[0]), ids(&[1, 2])];
        let g = Graph::new(&deps, |i| i.to_string()).unwrap();
        assert_eq!(g.order, ids(&[0, 1, 2, 3]));
        assert_eq!(g.upstream[3], ids(&[0, 1, 2]));
        assert_eq!(g.depth, [0, 1, 1, 2]);
        assert!(g.is_upstream(ProcessorId(0), ProcessorId(3)));
        assert!(!g.is_upstream(ProcessorId(3), ProcessorId(0)));
        assert!(!g.is_upstream(ProcessorId(1), ProcessorId(2)));
    }

    #[test]
    fn ties_follow_catalog_order_and_a_cycle_is_named() {
        let deps = vec![ids(&[2]), ids(&[]), ids(&[])];
        let g = Graph::new(&deps, |i| i.to_string()).unwrap();
        assert_eq!(g.order, ids(&[1, 2, 0]));
        let cyclic = vec![ids(&[]), ids(&[2]), ids(&[3]), ids(&[1])];
        let e = Graph::new(&cyclic, |i| format!("P{i}")).unwrap_err();
        assert_eq!(e, "dependency cycle: P1 -> P2 -> P3 -> P1");
    }

    #[test]
    fn a_long_chain_needs_no_recursion() {
        let n = 1000;
        let deps: Vec<Vec<ProcessorId>> = (0..n)
            .map(|i| if i == 0 { vec![] } else { ids(&[i - 1]) })
            .collect();
        let g = Graph::new(&deps, |i| i.to_string()).unwrap();
        assert_eq!(g.depth[n - 1], n - 1);
        assert_eq!(g.upstream[n - 1].len(), n - 1);
    }
}
