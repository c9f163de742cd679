//! A module's parameters by dotted path (`top.adapters.0.down.weight`), to and from
//! safetensors bytes. Frozen encoder layers are left out on export (they come from the
//! encoder package) and are not expected on import.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::{Device, Tensor, TensorData};
use safetensors::Dtype;
use safetensors::tensor::TensorView;

/// Whether a parameter path belongs to the frozen encoder copy inside a stage model.
pub fn is_frozen_path(path: &str) -> bool {
    path.contains(".layers.") || path.starts_with("layers.")
}

/// Visits the trainable parameters by path (the frozen ones skipped).
struct EachTrainable<F: FnMut(String, &[usize], Tensor<1>)> {
    path: Vec<String>,
    f: F,
}

impl<F: FnMut(String, &[usize], Tensor<1>)> ModuleVisitor for EachTrainable<F> {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let name = self.path.join(".");
        if is_frozen_path(&name) {
            return;
        }
        // Untracked: what is computed from it never joins the autodiff graph.
        let t = param.val().set_require_grad(false);
        let dims = t.dims();
        let n = dims.iter().product::<usize>();
        (self.f)(name, &dims, t.reshape([n]));
    }
}

/// Calls `f` with each trainable parameter of a module: its path, its shape and its
/// values, flattened, untracked and on the parameter's device (no copy to the host).
pub fn each_trainable<M: Module>(module: &M, f: impl FnMut(String, &[usize], Tensor<1>)) {
    module.visit(&mut EachTrainable { path: Vec::new(), f });
}

/// The trainable parameters of a module, by path.
pub fn export<M: Module>(module: &M) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    let mut out = Vec::new();
    each_trainable(module, |name, shape, t| out.push((name, shape.to_vec(), tatra_encoder::to_vec(t))));
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// How a package stores its weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// f32: checkpoints (training resumes from them bit for bit).
    F32,
    /// f16: shipped packages (half the size, no measurable change in scores).
    F16,
    /// 8-bit blocks: every matrix of at least [`Q8_MIN`] values as signed bytes with one
    /// f16 scale per [`Q8_BLOCK`] consecutive values (`name` is the I8 tensor, `name` +
    /// [`Q8_SCALES`] its scales); vectors and small matrices stay f16. About 0.53 of the
    /// f16 size; chosen per package (`Meta::weights` = "q8", `tatra train ner-ensemble --q8`).
    Q8,
    /// 4-bit blocks: the same matrices as [`Precision::Q8`] as packed nibbles, two values
    /// a byte, with one f16 scale per `block` values ([`Q4_BLOCK`] unless the header's
    /// [`Q4_BLOCK_KEY`] says otherwise; `name` is a U8 tensor of the
    /// shape with its last dimension halved, `name` + [`Q4_SCALES`] its scales; an odd
    /// last dimension is padded by one zero a row and its shape kept in the header under
    /// `name` + [`Q4_SHAPE`]; packages before 2026-12-07 kept such matrices f16). About
    /// 0.28 of the f16 size at 32-value blocks (`Meta::weights` = "q4", `--q4`; "q4-N"
    /// and `--q4 --q4-block N` for N-value blocks: Greek-GDT's package 8% smaller at 64,
    /// Czech-CLTT's 12% at 128).
    Q4 { block: usize },
}

impl Precision {
    /// What a shipped package with this metadata stores: Q8 where it says so, else f16.
    pub fn shipped(meta: &crate::package::Meta) -> Precision {
        match meta.weights.as_str() {
            "q8" => Precision::Q8,
            "q4" => Precision::Q4 { block: Q4_BLOCK },
            w => match w.strip_prefix("q4-").and_then(|b| b.parse().ok()).filter(|&b: &usize| b > 0) {
                Some(block) => Precision::Q4 { block },
                None => Precision::F16,
            },
        }
    }
}

/// Values per scale of [`Precision::Q8`].
pub const Q8_BLOCK: usize = 32;
/// The smallest matrix [`Precision::Q8`] quantises.
pub const Q8_MIN: usize = 4096;
/// The name suffix of a Q8 tensor's scales.
pub const Q8_SCALES: &str = ".q8_scales";
/// Values per scale of [`Precision::Q4`] unless the header says otherwise.
pub const Q4_BLOCK: usize = 32;
/// The header metadata key that holds a Q4 file's block size where it is not
/// [`Q4_BLOCK`] (files without it have 32-value blocks).
pub const Q4_BLOCK_KEY: &str = "q4_block";
/// The name suffix of a Q4 tensor's scales.
pub const Q4_SCALES: &str = ".q4_scales";
/// The suffix of a header metadata key (`name` + it) holding the shape of a Q4 tensor
/// whose last dimension is odd ("400,385"): its rows are stored with one zero appended.
pub const Q4_SHAPE: &str = ".q4_shape";

/// Symmetric 8-bit quantisation in blocks of [`Q8_BLOCK`]: (bytes, f16 scales); value
/// `i` is `q[i] * scale[i / Q8_BLOCK]`, |q| <= 127.
pub fn q8_encode(v: &[f32]) -> (Vec<u8>, Vec<half::f16>) {
    let mut q = Vec::with_capacity(v.len());
    let mut scales = Vec::with_capacity(v.len().div_ceil(Q8_BLOCK));
    for block in v.chunks(Q8_BLOCK) {
        let max = block.iter().fold(0f32, |m, x| m.max(x.abs()));
        let d = half::f16::from_f32(max / 127.0);
        let df = d.to_f32();
        scales.push(d);
        for x in block {
            let n = if df > 0.0 { (x / df).round().clamp(-127.0, 127.0) } else { 0.0 };
            q.push(n as i8 as u8);
        }
    }
    (q, scales)
}

/// The inverse of [`q8_encode`].
pub fn q8_decode(q: &[u8], scales: &[half::f16]) -> Result<Vec<f32>, String> {
    if scales.len() != q.len().div_ceil(Q8_BLOCK) {
        return Err(format!("{} scales for {} values (expected {})", scales.len(), q.len(), q.len().div_ceil(Q8_BLOCK)));
    }
    Ok(q.iter().enumerate().map(|(i, b)| *b as i8 as f32 * scales[i / Q8_BLOCK].to_f32()).collect())
}

/// Symmetric 4-bit quantisation in blocks of `block` values: (packed nibbles, f16 scales);
/// value `i` is `(nibble[i] - 8) * scale[i / block]`, nibble `2k` the low half of byte
/// `k`. Each block's scale is the one of a few candidates around its largest magnitude /
/// 8 (signed, so that value is exact, as ggml's Q4_0) that gives the least squared error.
pub fn q4_encode(v: &[f32], block: usize) -> (Vec<u8>, Vec<half::f16>) {
    let mut nibbles = Vec::with_capacity(v.len() + 1);
    let mut scales = Vec::with_capacity(v.len().div_ceil(block));
    let quant = |x: f32, df: f32| if df != 0.0 { ((x / df).round() + 8.0).clamp(0.0, 15.0) as u8 } else { 8 };
    for block in v.chunks(block) {
        let m = block.iter().fold(0f32, |m, &x| if x.abs() > m.abs() { x } else { m });
        let mut best = (f32::INFINITY, half::f16::from_f32(0.0));
        // m / -8 puts the extreme value on the 16th level; the others trade it for finer steps.
        for div in [-8.0f32, -7.5, -7.0, -6.5, -6.0, 7.0] {
            let d = half::f16::from_f32(m / div);
            let df = d.to_f32();
            let err: f32 = block.iter().map(|&x| (x - (quant(x, df) as f32 - 8.0) * df).powi(2)).sum();
            if err < best.0 {
                best = (err, d);
            }
        }
        scales.push(best.1);
        let df = best.1.to_f32();
        nibbles.extend(block.iter().map(|&x| quant(x, df)));
    }
    nibbles.resize(v.len().div_ceil(2) * 2, 8);
    (nibbles.chunks_exact(2).map(|p| p[0] | (p[1] << 4)).collect(), scales)
}

/// The inverse of [`q4_encode`] for `n` values.
pub fn q4_decode(q: &[u8], scales: &[half::f16], n: usize, block: usize) -> Result<Vec<f32>, String> {
    if block == 0 || q.len() != n.div_ceil(2) || scales.len() != n.div_ceil(block) {
        return Err(format!("{} bytes and {} scales for {n} values in blocks of {block}", q.len(), scales.len()));
    }
    Ok((0..n).map(|i| (((q[i / 2] >> (4 * (i % 2))) & 15) as f32 - 8.0) * scales[i / block].to_f32()).collect())
}

/// Serialises exported parameters as safetensors in `precision`.
pub fn to_safetensors(params: &[(String, Vec<usize>, Vec<f32>)], precision: Precision) -> Result<Vec<u8>, String> {
    let f16_bytes = |v: &[f32]| -> Vec<u8> { v.iter().flat_map(|x| half::f16::from_f32(*x).to_le_bytes()).collect() };
    let mut stored: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    // Header metadata: the shapes of Q4 tensors whose last dimension is odd, and the Q4
    // block size where it is not the default.
    let mut header: HashMap<String, String> = HashMap::new();
    for (name, shape, v) in params {
        let blocks = shape.len() >= 2 && v.len() >= Q8_MIN;
        // Quantised: (dtype, stored shape, bytes, scales, the scales' name suffix).
        let quantised = match precision {
            Precision::Q8 if blocks => {
                let (q, scales) = q8_encode(v);
                Some((Dtype::I8, shape.clone(), q, scales, Q8_SCALES))
            }
            Precision::Q4 { block } if blocks => {
                if block != Q4_BLOCK {
                    header.insert(Q4_BLOCK_KEY.to_string(), block.to_string());
                }
                let cols = shape[shape.len() - 1];
                let mut packed = shape.clone();
                packed[shape.len() - 1] = cols.div_ceil(2);
                let (q, scales) = if cols % 2 == 0 {
                    q4_encode(v, block)
                } else {
                    // An odd last dimension: each row gets a zero (stored exactly) to make
                    // it even, and the header records the shape without it.
                    header.insert(format!("{name}{Q4_SHAPE}"), shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(","));
                    let padded: Vec<f32> = v.chunks(cols).flat_map(|row| row.iter().copied().chain([0.0])).collect();
                    q4_encode(&padded, block)
                };
                Some((Dtype::U8, packed, q, scales, Q4_SCALES))
            }
            _ => None,
        };
        match quantised {
            Some((dtype, stored_shape, q, scales, suffix)) => {
                let sb: Vec<u8> = scales.iter().flat_map(|d| d.to_le_bytes()).collect();
                stored.push((name.clone(), dtype, stored_shape, q));
                stored.push((format!("{name}{suffix}"), Dtype::F16, vec![scales.len()], sb));
            }
            None if precision == Precision::F32 => stored.push((name.clone(), Dtype::F32, shape.clone(), v.iter().flat_map(|x| x.to_le_bytes()).collect())),
            None => stored.push((name.clone(), Dtype::F16, shape.clone(), f16_bytes(v))),
        }
    }
    let views: Vec<(String, TensorView)> = stored
        .iter()
        .map(|(n, d, s, b)| TensorView::new(*d, s.clone(), b).map(|v| (n.clone(), v)))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    safetensors::serialize(views, (!header.is_empty()).then_some(header)).map_err(|e| e.to_string())
}

/// Reads safetensors bytes (f32, f16, [`Precision::Q8`] or [`Precision::Q4`]) into
/// path → (shape, values).
pub fn from_safetensors(bytes: &[u8]) -> Result<HashMap<String, (Vec<usize>, Vec<f32>)>, String> {
    let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| e.to_string())?;
    let (_, header) = safetensors::SafeTensors::read_metadata(bytes).map_err(|e| e.to_string())?;
    let meta = header.metadata().clone().unwrap_or_default();
    let q4_block = match meta.get(Q4_BLOCK_KEY) {
        None => Q4_BLOCK,
        Some(b) => b.parse::<usize>().ok().filter(|&b| b > 0).ok_or_else(|| format!("bad Q4 block size '{b}' in the header"))?,
    };
    let mut out = HashMap::new();
    let scales_of = |name: &str, suffix: &str, what: &str| -> Result<Vec<half::f16>, String> {
        let scales = st.tensor(&format!("{name}{suffix}")).map_err(|_| format!("tensor '{name}' is {what} without its '{name}{suffix}'"))?;
        if scales.dtype() != Dtype::F16 {
            return Err(format!("'{name}{suffix}' is {:?}, expected F16", scales.dtype()));
        }
        Ok(scales.data().chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]])).collect())
    };
    for (name, view) in st.tensors() {
        if name.ends_with(Q8_SCALES) || name.ends_with(Q4_SCALES) {
            continue;
        }
        let mut shape = view.shape().to_vec();
        let v = match view.dtype() {
            Dtype::F32 => view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
            Dtype::F16 => view.data().chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
            Dtype::I8 => q8_decode(view.data(), &scales_of(&name, Q8_SCALES, "I8")?).map_err(|e| format!("tensor '{name}': {e}"))?,
            Dtype::U8 => {
                let Some(last) = shape.last_mut() else { return Err(format!("tensor '{name}' is U8 without dimensions")) };
                *last *= 2;
                let n = shape.iter().product();
                let v = q4_decode(view.data(), &scales_of(&name, Q4_SCALES, "U8")?, n, q4_block).map_err(|e| format!("tensor '{name}': {e}"))?;
                match meta.get(&format!("{name}{Q4_SHAPE}")) {
                    None => v,
                    Some(s) => {
                        // Rows stored with one padding value each (the header's shape has
                        // one column less): drop it.
                        let real: Vec<usize> = s.split(',').map(|d| d.parse::<usize>()).collect::<Result<_, _>>().map_err(|_| format!("tensor '{name}': bad shape '{s}' in the header"))?;
                        let at = shape.len() - 1;
                        let stored_cols = shape[at];
                        let cols = stored_cols.saturating_sub(1);
                        shape[at] = cols;
                        if real != shape || cols == 0 {
                            return Err(format!("tensor '{name}': header shape {real:?} does not fit its stored shape"));
                        }
                        v.chunks(stored_cols).flat_map(|row| row[..cols].iter().copied()).collect()
                    }
                }
            }
            other => return Err(format!("tensor '{name}' is {other:?}, expected F32, F16, I8 or U8")),
        };
        out.insert(name, (shape, v));
    }
    Ok(out)
}

/// Sets the trainable parameters by path from `value`.
struct Assign<F: FnMut(&str, &[usize], &Device) -> Result<Tensor<1>, String>> {
    path: Vec<String>,
    value: F,
    errors: Vec<String>,
}

impl<F: FnMut(&str, &[usize], &Device) -> Result<Tensor<1>, String>> ModuleMapper for Assign<F> {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let name = self.path.join(".");
        if is_frozen_path(&name) {
            return param;
        }
        let old = param.val();
        let dims = old.dims();
        match (self.value)(&name, &dims, &old.device()) {
            Ok(flat) => {
                let require_grad = old.is_require_grad();
                let t: Tensor<D> = flat.reshape(dims);
                let id: ParamId = param.id;
                Param::initialized(id, t.set_require_grad(require_grad))
            }
            Err(why) => {
                self.errors.push(why);
                param
            }
        }
    }
}

/// Sets each trainable parameter of a module from `value(path, shape, device)`: its
/// values flattened, or why there are none, listed in the returned errors (the
/// parameter then stays as it was).
pub fn assign_trainable<M: Module>(module: M, value: impl FnMut(&str, &[usize], &Device) -> Result<Tensor<1>, String>) -> (M, Vec<String>) {
    let mut a = Assign { path: Vec::new(), value, errors: Vec::new() };
    let m = module.map(&mut a);
    (m, a.errors)
}

/// Sets a module's trainable parameters from `values`; errors list what is missing or
/// mis-shaped, or left over.
pub fn import<M: Module>(module: M, values: &HashMap<String, (Vec<usize>, Vec<f32>)>) -> Result<M, String> {
    let mut used = 0;
    let (m, missing) = assign_trainable(module, |name, dims, device| {
        let Some((shape, v)) = values.get(name) else { return Err(name.to_string()) };
        if shape.as_slice() != dims {
            return Err(format!("{name} (shape {shape:?}, expected {dims:?})"));
        }
        used += 1;
        Ok(Tensor::<1>::from_data(TensorData::new(v.clone(), [v.len()]), device))
    });
    if !missing.is_empty() {
        return Err(format!("parameters missing or mis-shaped: {}", missing.join(", ")));
    }
    if used != values.len() {
        return Err(format!("{} stored parameters do not belong to this model", values.len() - used));
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A matrix big enough to quantise and a vector that stays f16, as exported parameters.
    fn fixture() -> (Vec<f32>, Vec<f32>, Vec<(String, Vec<usize>, Vec<f32>)>) {
        let big: Vec<f32> = (0..96 * 64).map(|i| ((i * 7919 % 1000) as f32 - 500.0) / 333.0).collect();
        let small: Vec<f32> = (0..40).map(|i| i as f32 / 10.0).collect();
        let params = vec![("a.weight".to_string(), vec![96, 64], big.clone()), ("b.bias".to_string(), vec![40], small.clone())];
        (big, small, params)
    }

    /// The quantised `a.weight` of `st` alone, without its scales: the error names it.
    fn damaged_error(st: &safetensors::SafeTensors) -> String {
        let only: Vec<(String, TensorView)> = vec![("a.weight".into(), st.tensor("a.weight").unwrap())];
        let bad = safetensors::serialize(only, None).unwrap();
        from_safetensors(&bad).unwrap_err()
    }

    /// Q8 keeps every value within half a step of its block's scale, keeps vectors and
    /// small matrices f16, and reads back through `from_safetensors` with the shapes.
    #[test]
    fn q8_round_trip() {
        let (big, small, params) = fixture();
        let q = to_safetensors(&params, Precision::Q8).unwrap();
        let f = to_safetensors(&params, Precision::F16).unwrap();
        assert!(q.len() * 10 < f.len() * 6, "q8 {} bytes, f16 {}", q.len(), f.len());
        let st = safetensors::SafeTensors::deserialize(&q).unwrap();
        assert_eq!(st.tensor("a.weight").unwrap().dtype(), Dtype::I8);
        assert_eq!(st.tensor("b.bias").unwrap().dtype(), Dtype::F16);
        let back = from_safetensors(&q).unwrap();
        assert_eq!(back.len(), 2, "the scales are not parameters");
        let (shape, v) = &back["a.weight"];
        assert_eq!(shape, &vec![96, 64]);
        for (block, got) in big.chunks(Q8_BLOCK).zip(v.chunks(Q8_BLOCK)) {
            let step = block.iter().fold(0f32, |m, x| m.max(x.abs())) / 127.0;
            for (x, y) in block.iter().zip(got) {
                assert!((x - y).abs() <= step * 0.51 + 1e-3, "{x} -> {y} (step {step})");
            }
        }
        let (_, b) = &back["b.bias"];
        assert!(b.iter().zip(&small).all(|(x, y)| (x - y).abs() < 2e-3));
        // A damaged file: I8 without its scales is an error naming the tensor.
        let e = damaged_error(&st);
        assert!(e.contains("a.weight"), "{e}");
    }

    /// Q4 packs two values a byte, keeps every value within a step of its block's
    /// scale (the value opposite the largest may be clipped to the 8th level), and reads back with the
    /// original shapes; a damaged file is an error naming the tensor.
    #[test]
    fn q4_round_trip() {
        let (big, small, params) = fixture();
        let q4 = to_safetensors(&params, Precision::Q4 { block: Q4_BLOCK }).unwrap();
        let q8 = to_safetensors(&params, Precision::Q8).unwrap();
        assert!(q4.len() * 10 < q8.len() * 6, "q4 {} bytes, q8 {}", q4.len(), q8.len());
        let st = safetensors::SafeTensors::deserialize(&q4).unwrap();
        assert_eq!(st.tensor("a.weight").unwrap().dtype(), Dtype::U8);
        assert_eq!(st.tensor("a.weight").unwrap().shape(), &[96, 32]);
        let back = from_safetensors(&q4).unwrap();
        assert_eq!(back.len(), 2, "the scales are not parameters");
        let (shape, v) = &back["a.weight"];
        assert_eq!(shape, &vec![96, 64]);
        let mut err = 0f64;
        for (block, got) in big.chunks(Q4_BLOCK).zip(v.chunks(Q4_BLOCK)) {
            let max = block.iter().fold(0f32, |m, x| m.max(x.abs()));
            for (x, y) in block.iter().zip(got) {
                assert!((x - y).abs() <= max / 7.0 + 1e-3, "{x} -> {y} (max {max})");
                err += ((x - y) as f64).powi(2);
            }
        }
        let rms = (err / big.len() as f64).sqrt();
        assert!(rms < 0.1, "rms error {rms}");
        let (_, b) = &back["b.bias"];
        assert!(b.iter().zip(&small).all(|(x, y)| (x - y).abs() < 2e-3));
        let e = damaged_error(&st);
        assert!(e.contains("a.weight") && e.contains("q4_scales"), "{e}");
    }

    /// 64-value blocks: half the scales, the block size in the header, every value within
    /// a step of its own block's scale on reading back; `Precision::shipped` reads "q4-64".
    #[test]
    fn q4_wide_blocks() {
        let (big, _, params) = fixture();
        let narrow = to_safetensors(&params, Precision::Q4 { block: Q4_BLOCK }).unwrap();
        let wide = to_safetensors(&params, Precision::Q4 { block: 64 }).unwrap();
        let st = safetensors::SafeTensors::deserialize(&wide).unwrap();
        assert_eq!(st.tensor(&format!("a.weight{Q4_SCALES}")).unwrap().shape(), &[big.len() / 64]);
        // One f16 scale less per 64 values, less the header's block-size entry.
        assert!(narrow.len() - wide.len() >= big.len() / 64 * 2 - 48, "{} -> {} bytes", narrow.len(), wide.len());
        let (shape, v) = &from_safetensors(&wide).unwrap()["a.weight"];
        assert_eq!(shape, &vec![96, 64]);
        for (block, got) in big.chunks(64).zip(v.chunks(64)) {
            let max = block.iter().fold(0f32, |m, x| m.max(x.abs()));
            assert!(block.iter().zip(got).all(|(x, y)| (x - y).abs() <= max / 7.0 + 1e-3));
        }
        let meta = |w: &str| crate::package::Meta { weights: w.into(), ..Default::default() };
        assert_eq!(Precision::shipped(&meta("q4-64")), Precision::Q4 { block: 64 });
        assert_eq!(Precision::shipped(&meta("q4")), Precision::Q4 { block: Q4_BLOCK });
        assert_eq!(Precision::shipped(&meta("")), Precision::F16);
        // A block size of 0 in a package's metadata is not one to write with.
        assert_eq!(Precision::shipped(&meta("q4-0")), Precision::F16);
    }

    /// A matrix with an odd last dimension (a head over 385 labels) is Q4 too, its rows
    /// padded by one value, and reads back with its own shape and values.
    #[test]
    fn q4_odd_last_dimension() {
        let (rows, cols) = (64, 77);
        let m: Vec<f32> = (0..rows * cols).map(|i| ((i * 7919 % 1000) as f32 - 500.0) / 333.0).collect();
        let params = vec![("h.weight".to_string(), vec![rows, cols], m.clone())];
        let q4 = to_safetensors(&params, Precision::Q4 { block: Q4_BLOCK }).unwrap();
        let st = safetensors::SafeTensors::deserialize(&q4).unwrap();
        assert_eq!(st.tensor("h.weight").unwrap().dtype(), Dtype::U8);
        assert_eq!(st.tensor("h.weight").unwrap().shape(), &[rows, cols.div_ceil(2)]);
        let (shape, v) = &from_safetensors(&q4).unwrap()["h.weight"];
        assert_eq!(shape, &vec![rows, cols]);
        assert_eq!(v.len(), m.len());
        // Every value lies near its own original, so each row's padding was dropped.
        let max = m.iter().fold(0f32, |a, x| a.max(x.abs()));
        assert!(m.iter().zip(v).all(|(x, y)| (x - y).abs() <= max / 7.0 + 1e-3));
        let rms = (m.iter().zip(v).map(|(x, y)| ((x - y) as f64).powi(2)).sum::<f64>() / m.len() as f64).sqrt();
        assert!(rms < 0.1, "rms error {rms}");
        // A header shape that does not fit the stored tensor is an error naming it.
        let view = st.tensor("h.weight").unwrap();
        let scales = st.tensor(&format!("h.weight{Q4_SCALES}")).unwrap();
        let bad_meta: HashMap<String, String> = [(format!("h.weight{Q4_SHAPE}"), format!("{rows},{}", cols + 2))].into();
        let bad = safetensors::serialize(vec![("h.weight".to_string(), view), (format!("h.weight{Q4_SCALES}"), scales)], Some(bad_meta)).unwrap();
        let e = from_safetensors(&bad).unwrap_err();
        assert!(e.contains("h.weight"), "{e}");
    }
}
