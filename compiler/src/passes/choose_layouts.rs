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
//! - Conv and pool activations `[..., C, S...]`: cyclic on the channel dim by `min(B, C)`; conv
//!   weights and biases as `lower_conv::ConvLayouts` computes in (rows by `min(B, O)`, and for
//!   groups = 1 columns by `min(B, C)`). Relu and add bank their tensors like the neighbour a
//!   linear, conv or pool decided.
//! - A reshape shares its input's memories when both layouts put every element in the same
//!   (bank, offset); a model input that is only reshaped takes the reshaped layout (the host
//!   scatters it). Any other reshape becomes a re-banking copy in `lower-graph`.
//!
//! Before: `x: [1, 13]`, `fc.weight: [29, 13]`, `y: [1, 29]`, `B = 4`.
//! After: `x` cyclic dim 1 by 4 (banks of 4, 3, 3, 3), `fc.weight` cyclic dim 0 by 4 (rows 8, 7, 7, 7)
//! and dim 1 by 4 (16 banks), `y` cyclic dim 1 by 4 (8, 7, 7, 7).

use super::lower_conv::{self, ConvLayouts};
use crate::banking::{BankingConfig, Layout};
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
    /// Banked on one dimension: the feature dim of a linear's tensors, the channel dim of a
    /// conv's or pool's (elementwise ops pass theirs on).
    Activation,
    /// A parameter whose layout its op chooses (a linear or conv weight, or a bias).
    Parameter,
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
    let n = graph.tensors.len();
    let mut uses: Vec<Option<Use>> = vec![None; n];
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
    // The banked dimension of each activation, and the layout of each parameter.
    let mut act_dim: Vec<Option<usize>> = vec![None; n];
    let mut params: Vec<Option<Layout>> = vec![None; n];
    let cyclic = |t: TensorId, dims: &[usize]| {
        let t = &graph.tensors[t];
        lower_conv::cyclic(&t.name, &t.shape, dims, factor)
    };
    for op in &graph.ops {
        let mut activations = |ts: &[TensorId], dim: Option<usize>| -> Result<()> {
            for &t in ts {
                note(t, Use::Activation, &op.name)?;
                if act_dim[t].is_none() {
                    act_dim[t] = dim.map(|d| d.min(graph.tensors[t].shape.len() - 1));
                }
            }
            Ok(())
        };
        match &op.kind {
            &OpKind::Linear { x, weight, bias, y } => {
                activations(&[x, y], Some(usize::MAX))?;
                // Weights: rows (one bank per output copy) and columns (one per input bank), so
                // an unrolled reduction reads distinct banks: an adder tree.
                params[weight] = Some(cyclic(weight, &[0, 1])?);
                note(weight, Use::Parameter, &op.name)?;
                if let Some(b) = bias {
                    params[b] = Some(cyclic(b, &[0])?);
                    note(b, Use::Parameter, &op.name)?;
                }
            }
            &OpKind::Conv {
                x,
                weight,
                bias,
                y,
                groups,
                ..
            } => {
                let c = channel_dim(graph, x, &op.kind);
                activations(&[x, y], Some(c))?;
                let wanted = ConvLayouts::new(&graph.tensors, x, weight, y, groups, factor)?;
                params[weight] = Some(wanted.weight);
                note(weight, Use::Parameter, &op.name)?;
                if let Some(b) = bias {
                    params[b] = Some(wanted.bias);
                    note(b, Use::Parameter, &op.name)?;
                }
            }
            &OpKind::Pool { x, y, .. } => {
                activations(&[x, y], Some(channel_dim(graph, x, &op.kind)))?;
            }
            &OpKind::Relu { x, y } | &OpKind::Reshape { x, y } => activations(&[x, y], None)?,
            &OpKind::Add { a, b, y } => activations(&[a, b, y], None)?,
            OpKind::Elementwise(e) => activations(&[e.x, e.y], None)?,
        }
    }
    // Elementwise ops bank their tensors like the one already decided (same shapes).
    for _ in 0..graph.ops.len() {
        let mut changed = false;
        for op in &graph.ops {
            let group: Vec<TensorId> = match op.kind {
                OpKind::Relu { x, y } => vec![x, y],
                OpKind::Add { a, b, y } => vec![a, b, y],
                OpKind::Elementwise(ref e) => vec![e.x, e.y],
                _ => continue,
            };
            if let Some(d) = group.iter().find_map(|&t| act_dim[t]) {
                for &t in &group {
                    changed |= act_dim[t].is_none();
                    act_dim[t].get_or_insert(d);
                }
            }
        }
        if !changed {
            break;
        }
    }
    let layouts: Vec<Layout> = (0..n)
        .map(|t| match params[t].take() {
            Some(l) => Ok(l),
            None => cyclic(t, &[act_dim[t].unwrap_or(graph.tensors[t].shape.len() - 1)]),
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
        }
        // Otherwise `lower-graph` moves the elements with a re-banking copy.
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
        OpKind::Conv {
            x, weight, bias, ..
        } => x != t && weight != t && bias != Some(t),
        OpKind::Relu { x, .. } | OpKind::Pool { x, .. } => x != t,
        OpKind::Add { a, b, .. } => a != t && b != t,
        OpKind::Elementwise(e) => e.x != t,
    })
}

/// The channel dimension of a conv's or pool's input.
fn channel_dim(graph: &Graph, x: TensorId, kind: &OpKind) -> usize {
    let r = match kind {
        OpKind::Conv { window, .. } | OpKind::Pool { window, .. } => window.rank(),
        _ => 0,
    };
    graph.tensors[x].shape.len() - r - 1
}
