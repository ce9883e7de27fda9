//! ONNX export of the network (opset 13), written as protobuf by hand (no dependency).
//!
//! The exported graph is the network on prepared inputs — what [`crate::net::Model`]
//! computes for one window:
//! - `ids` int64 `[N, 6, L]`: dicodon ids of each frame, padded with `VOCAB` (an extra
//!   all-zero embedding row);
//! - `counts` float `[N, 6]`: the number of real ids per frame, at least 1;
//! - `dense` float `[N, 6, 19]`: the dense features of each frame;
//!
//! and gives `probs` float `[N, 7]` (non-coding, +0, +1, +2, −0, −1, −2). Feature
//! extraction (k-mer ids, stop counts, composition) and windowing stay in Rust:
//! [`prepare`] builds these inputs from reads.

use crate::features::{FrameInputs, PathScorer, TableContext, DENSE, FRAMES, VOCAB};
use crate::net::Weights;

// --- protobuf wire format -------------------------------------------------------------

fn varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn key(out: &mut Vec<u8>, field: u32, wire: u8) {
    varint(out, ((field as u64) << 3) | wire as u64);
}

fn int_field(out: &mut Vec<u8>, field: u32, v: i64) {
    key(out, field, 0);
    varint(out, v as u64);
}

fn bytes_field(out: &mut Vec<u8>, field: u32, b: &[u8]) {
    key(out, field, 2);
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn str_field(out: &mut Vec<u8>, field: u32, s: &str) {
    bytes_field(out, field, s.as_bytes());
}

// --- ONNX messages --------------------------------------------------------------------

const FLOAT: i64 = 1;
const INT64: i64 = 7;

/// TensorProto with raw little-endian data.
fn tensor_f32(name: &str, dims: &[i64], data: &[f32]) -> Vec<u8> {
    let mut t = Vec::new();
    for &d in dims {
        int_field(&mut t, 1, d);
    }
    int_field(&mut t, 2, FLOAT);
    str_field(&mut t, 8, name);
    let raw: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    bytes_field(&mut t, 9, &raw);
    t
}

fn tensor_i64(name: &str, data: &[i64]) -> Vec<u8> {
    let mut t = Vec::new();
    int_field(&mut t, 1, data.len() as i64);
    int_field(&mut t, 2, INT64);
    str_field(&mut t, 8, name);
    let raw: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    bytes_field(&mut t, 9, &raw);
    t
}

enum Attr {
    Int(i64),
    Ints(Vec<i64>),
}

fn node(
    op: &str,
    name: &str,
    inputs: &[&str],
    outputs: &[&str],
    attrs: &[(&str, Attr)],
) -> Vec<u8> {
    let mut n = Vec::new();
    for i in inputs {
        str_field(&mut n, 1, i);
    }
    for o in outputs {
        str_field(&mut n, 2, o);
    }
    str_field(&mut n, 3, name);
    str_field(&mut n, 4, op);
    for (an, av) in attrs {
        let mut a = Vec::new();
        str_field(&mut a, 1, an);
        match av {
            Attr::Int(v) => {
                int_field(&mut a, 3, *v);
                int_field(&mut a, 20, 2); // INT
            }
            Attr::Ints(vs) => {
                for v in vs {
                    int_field(&mut a, 8, *v);
                }
                int_field(&mut a, 20, 7); // INTS
            }
        }
        bytes_field(&mut n, 5, &a);
    }
    n
}

/// ValueInfoProto of a tensor with named (`Err`) or fixed (`Ok`) dimensions.
fn value_info(name: &str, elem: i64, dims: &[Result<i64, &str>]) -> Vec<u8> {
    let mut shape = Vec::new();
    for d in dims {
        let mut dim = Vec::new();
        match d {
            Ok(v) => int_field(&mut dim, 1, *v),
            Err(p) => str_field(&mut dim, 2, p),
        }
        bytes_field(&mut shape, 1, &dim);
    }
    let mut tt = Vec::new();
    int_field(&mut tt, 1, elem);
    bytes_field(&mut tt, 2, &shape);
    let mut ty = Vec::new();
    bytes_field(&mut ty, 1, &tt);
    let mut vi = Vec::new();
    str_field(&mut vi, 1, name);
    bytes_field(&mut vi, 2, &ty);
    vi
}

/// The ONNX model (serialized ModelProto) of `w`.
pub fn export(w: &Weights, producer_version: &str) -> Vec<u8> {
    let inits = initializers(w);
    let nodes = graph_nodes();
    let mut g = Vec::new();
    for n in &nodes {
        bytes_field(&mut g, 1, n);
    }
    str_field(&mut g, 2, "cdspred");
    for t in &inits {
        bytes_field(&mut g, 5, t);
    }
    let frames = Ok(FRAMES as i64);
    for vi in [
        value_info("ids", INT64, &[Err("N"), frames, Err("L")]),
        value_info("counts", FLOAT, &[Err("N"), frames]),
        value_info("dense", FLOAT, &[Err("N"), frames, Ok(DENSE as i64)]),
    ] {
        bytes_field(&mut g, 11, &vi);
    }
    bytes_field(&mut g, 12, &value_info("probs", FLOAT, &[Err("N"), Ok(7)]));
    let mut m = Vec::new();
    int_field(&mut m, 1, 7); // IR version 7 (opset 13 era)
    str_field(&mut m, 2, "cdspred");
    str_field(&mut m, 3, producer_version);
    bytes_field(&mut m, 7, &g);
    let mut opset = Vec::new();
    str_field(&mut opset, 1, "");
    int_field(&mut opset, 2, 13);
    bytes_field(&mut m, 8, &opset);
    m
}

/// The weights as graph initializers (the embedding with an all-zero padding row, the
/// first layer transposed for MatMul).
fn initializers(w: &Weights) -> [Vec<u8>; 9] {
    let (d, h, iw) = (w.dim, w.hidden, w.input_width());
    let mut emb = w.emb.clone();
    emb.extend(std::iter::repeat_n(0.0, d)); // the padding row
    let mut w1t = vec![0f32; iw * h];
    for j in 0..h {
        for i in 0..iw {
            w1t[i * h + j] = w.w1[j * iw + i];
        }
    }
    [
        tensor_f32("emb", &[(VOCAB + 1) as i64, d as i64], &emb),
        tensor_f32("w1t", &[iw as i64, h as i64], &w1t),
        tensor_f32("b1", &[h as i64], &w.b1),
        tensor_f32("w2", &[h as i64, 1], &w.w2),
        tensor_f32("b2", &[1], &w.b2),
        tensor_f32("u_mean", &[h as i64, 1], &w.u_mean),
        tensor_f32("u_max", &[h as i64, 1], &w.u_max),
        tensor_f32("c0", &[1], &w.c0),
        tensor_i64("axis2", &[2]),
    ]
}

/// The network's nodes: embedding mean, dense inputs, hidden layer, frame and
/// non-coding logits, softmax.
fn graph_nodes() -> [Vec<u8>; 19] {
    [
        node(
            "Gather",
            "embed",
            &["emb", "ids"],
            &["g"],
            &[("axis", Attr::Int(0))],
        ),
        node(
            "ReduceSum",
            "sum_ids",
            &["g", "axis2"],
            &["s"],
            &[("keepdims", Attr::Int(0))],
        ),
        node("Unsqueeze", "counts3", &["counts", "axis2"], &["c3"], &[]),
        node("Div", "mean_ids", &["s", "c3"], &["m"], &[]),
        node(
            "Concat",
            "inputs",
            &["m", "dense"],
            &["x"],
            &[("axis", Attr::Int(2))],
        ),
        node("MatMul", "layer1", &["x", "w1t"], &["a0"], &[]),
        node("Add", "layer1_bias", &["a0", "b1"], &["a"], &[]),
        node("Relu", "relu", &["a"], &["hid"], &[]),
        node("MatMul", "frame_score", &["hid", "w2"], &["f0"], &[]),
        node("Add", "frame_bias", &["f0", "b2"], &["f1"], &[]),
        node("Squeeze", "frame_logits", &["f1", "axis2"], &["fl"], &[]),
        node(
            "ReduceMean",
            "hid_mean",
            &["hid"],
            &["hm"],
            &[("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(0))],
        ),
        node(
            "ReduceMax",
            "hid_max",
            &["hid"],
            &["hx"],
            &[("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(0))],
        ),
        node("MatMul", "nc_mean", &["hm", "u_mean"], &["n1"], &[]),
        node("MatMul", "nc_max", &["hx", "u_max"], &["n2"], &[]),
        node("Add", "nc_sum", &["n1", "n2"], &["n3"], &[]),
        node("Add", "nc_logit", &["n3", "c0"], &["nl"], &[]),
        node(
            "Concat",
            "logits",
            &["nl", "fl"],
            &["z"],
            &[("axis", Attr::Int(1))],
        ),
        node(
            "Softmax",
            "softmax",
            &["z"],
            &["probs"],
            &[("axis", Attr::Int(1))],
        ),
    ]
}

/// Inputs of the exported graph for reads of at most one window (the batch is padded
/// to its longest frame): `(ids [N·6·L], L, counts [N·6], dense [N·6·DENSE])`. The
/// frame paths are decoded here, with `path` (the model's [`Weights::path`]); the
/// graph holds the network.
pub fn prepare(
    reads: &[&[u8]],
    table: &TableContext,
    path: &PathScorer<'_>,
) -> (Vec<i64>, usize, Vec<f32>, Vec<f32>) {
    let mut fi = FrameInputs::default();
    let mut all: Vec<FrameInputs> = Vec::with_capacity(reads.len());
    for r in reads {
        fi.fill(r, table, path);
        all.push(fi.clone());
    }
    let l = all
        .iter()
        .flat_map(|f| f.ids.iter().map(Vec::len))
        .max()
        .unwrap_or(0)
        .max(1);
    let mut ids = Vec::with_capacity(reads.len() * FRAMES * l);
    let mut counts = Vec::with_capacity(reads.len() * FRAMES);
    let mut dense = Vec::with_capacity(reads.len() * FRAMES * DENSE);
    for f in &all {
        for fr in 0..FRAMES {
            let v = &f.ids[fr];
            ids.extend(v.iter().map(|&x| x as i64));
            ids.extend(std::iter::repeat_n(VOCAB as i64, l - v.len()));
            counts.push(v.len().max(1) as f32);
            dense.extend_from_slice(&f.dense[fr]);
        }
    }
    (ids, l, counts, dense)
}
