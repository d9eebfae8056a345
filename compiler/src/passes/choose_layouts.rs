//! `choose-layouts`: picks every tensor's banking for a banking factor `B`, so that the kernels
//! `lower-graph` builds touch each bank at most once per parallel step, and a producer writes in
//! the layout its consumers read (all activations share one rule, so layouts agree by
//! construction across layers).
//!
//! - Activations, inputs and outputs `[..., L]`: cyclic on the last dimension by `min(B, L)`. A
//!   `linear` reads its input one element per step from the bank of that element and writes its
//!   `P` outputs, one per bank; elementwise ops touch `F` banks in lock step.
//! - Linear weights `[N, K]`: cyclic on dimension 0 by `min(B, N)` and on dimension 1 by
//!   `min(B, K)`: output copy `j` reading input bank `u` owns weight bank `(j, u)`, so all `P x Q`
//!   products of a step read distinct banks and the reduction becomes an adder tree. Biases `[N]`:
//!   cyclic on dimension 0 by `min(B, N)`.
//! - A reshape shares its input's memories when both layouts put every element in the same
//!   (bank, offset); a model input that is only reshaped takes the reshaped layout (the host
//!   scatters it). Any other reshape between banked layouts is rejected.
//!
//! Before: `x: [1, 13]`, `fc.weight: [29, 13]`, `y: [1, 29]`, `B = 4`.
//! After: `x` cyclic dim 1 by 4 (banks of 4, 3, 3, 3), `fc.weight` cyclic dim 0 by 4 (rows 8, 7, 7, 7)
//! and dim 1 by 4 (16 banks), `y` cyclic dim 1 by 4 (8, 7, 7, 7).

use crate::banking::{BankingConfig, DimBanking, Layout, Scheme};
use crate::bundle::Role;
use crate::error::{Error, Result};
use crate::ir::graph::{Graph, OpKind, TensorId};

/// The chosen layouts and which tensor's memories each tensor lives in.
pub struct Layouts {
    pub layouts: Vec<Layout>,
    /// `storage[t]` is the tensor whose memories hold `t` (itself unless a reshape aliases it).
    pub storage: Vec<TensorId>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Use {
    /// Banked on the last dimension.
    Activation,
    /// Banked on dimension 0 (rows of a linear weight, or its bias).
    LinearParameter,
}

pub fn choose_layouts(
    graph: &Graph,
    factor: usize,
    config: Option<&BankingConfig>,
) -> Result<Layouts> {
    if factor == 0 {
        return Err(Error::Unsupported(
            "banking factor 0: the factor must be at least 1".into(),
        ));
    }
    let mut uses: Vec<Option<Use>> = vec![None; graph.tensors.len()];
    let mut note = |t: TensorId, u: Use, op: &str| -> Result<()> {
        match uses[t] {
            Some(prev) if prev != u => Err(Error::Unsupported(format!(
                "tensor '{}' is used both as a linear weight and as an activation (by '{op}'); it cannot be banked both ways",
                graph.tensors[t].name
            ))),
            _ => {
                uses[t] = Some(u);
                Ok(())
            }
        }
    };
    for op in &graph.ops {
        match op.kind {
            OpKind::Linear { x, weight, bias, y } => {
                note(weight, Use::LinearParameter, &op.name)?;
                if let Some(b) = bias {
                    note(b, Use::LinearParameter, &op.name)?;
                }
                note(x, Use::Activation, &op.name)?;
                note(y, Use::Activation, &op.name)?;
            }
            OpKind::Relu { x, y } | OpKind::Reshape { x, y } => {
                note(x, Use::Activation, &op.name)?;
                note(y, Use::Activation, &op.name)?;
            }
            OpKind::Add { a, b, y } => {
                for t in [a, b, y] {
                    note(t, Use::Activation, &op.name)?;
                }
            }
            OpKind::Elementwise(e) => {
                note(e.x, Use::Activation, &op.name)?;
                note(e.y, Use::Activation, &op.name)?;
            }
        }
    }
    let layouts: Vec<Layout> = graph
        .tensors
        .iter()
        .zip(&uses)
        .map(|(t, u)| {
            // Weights: rows (one bank per output copy) and, for a weight matrix, columns too (one
            // per input bank), so an unrolled reduction reads distinct banks: an adder tree.
            let dims: Vec<usize> = match u {
                Some(Use::LinearParameter) => (0..t.shape.len().min(2)).collect(),
                _ => vec![t.shape.len() - 1],
            };
            let banked: Vec<DimBanking> = dims
                .into_iter()
                .map(|dim| DimBanking {
                    dim,
                    scheme: Scheme::Cyclic,
                    factor: factor.min(t.shape[dim]),
                })
                .filter(|b| b.factor > 1)
                .collect();
            Layout::new(&t.shape, banked).map_err(|m| Error::tensor(&t.name, m))
        })
        .collect::<Result<_>>()?;

    let mut layouts = layouts;
    if let Some(config) = config {
        for (name, dims) in &config.tensors {
            let id = graph
                .tensors
                .iter()
                .position(|t| &t.name == name)
                .ok_or_else(|| {
                    Error::tensor(
                        name,
                        "the banking config names this tensor, but the model has no such tensor",
                    )
                })?;
            let shape = &graph.tensors[id].shape;
            layouts[id] = Layout::new(shape, dims.clone()).map_err(|m| {
                Error::tensor(
                    name,
                    format!("impossible banking in the banking config: {m}"),
                )
            })?;
        }
    }

    super::lower_elementwise::parameter_layouts(graph, &mut layouts, |t| {
        uses[t].is_none() && !config.is_some_and(|c| c.tensors.contains_key(&graph.tensors[t].name))
    })?;

    let mut storage: Vec<TensorId> = (0..graph.tensors.len()).collect();
    for op in &graph.ops {
        let OpKind::Reshape { x, y } = op.kind else {
            continue;
        };
        if same_placement(&layouts[x], &layouts[y]) {
            storage[y] = storage[x];
        } else if graph.tensors[x].role == Role::Input
            && storage[x] == x
            && reshape_count(graph, x) == 1
            && only_reshaped(graph, x)
        {
            // The host scatters the input straight into the reshaped layout.
            storage[x] = y;
        } else {
            return Err(Error::Unsupported(format!(
                "node '{}' ({}): reshaping '{}' {:?} into {:?} would move elements between banks at banking factor {factor}; only an op's inputs can be re-banked with a copy, not a reshape",
                op.name, op.origin, graph.tensors[x].name, graph.tensors[x].shape, graph.tensors[y].shape
            )));
        }
    }
    Ok(Layouts { layouts, storage })
}

/// Both layouts put every row-major element in the same bank at the same offset.
fn same_placement(a: &Layout, b: &Layout) -> bool {
    a.banks() == b.banks() && a.elements() == b.elements()
}

fn reshape_count(graph: &Graph, t: TensorId) -> usize {
    graph
        .ops
        .iter()
        .filter(|op| matches!(op.kind, OpKind::Reshape { x, .. } if x == t))
        .count()
}

fn only_reshaped(graph: &Graph, t: TensorId) -> bool {
    graph.ops.iter().all(|op| match op.kind {
        OpKind::Reshape { .. } => true,
        OpKind::Linear {
            x, weight, bias, ..
        } => x != t && weight != t && bias != Some(t),
        OpKind::Relu { x, .. } => x != t,
        OpKind::Add { a, b, .. } => a != t && b != t,
        OpKind::Elementwise(e) => e.x != t,
    })
}
