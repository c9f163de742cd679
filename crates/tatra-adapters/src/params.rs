//! A module's parameters by dotted path (`top.adapters.0.down.weight`), to and from
//! safetensors bytes. Frozen encoder layers are left out on export (they come from the
//! encoder package) and are not expected on import.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::{Tensor, TensorData};
use safetensors::Dtype;
use safetensors::tensor::TensorView;

/// Whether a parameter path belongs to the frozen encoder copy inside a stage model.
pub fn is_frozen_path(path: &str) -> bool {
    path.contains(".layers.") || path.starts_with("layers.")
}

struct Collect {
    path: Vec<String>,
    out: Vec<(String, Vec<usize>, Vec<f32>)>,
}

impl ModuleVisitor for Collect {
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
        let t = param.val();
        let shape = t.dims().to_vec();
        self.out.push((name, shape, tatra_encoder::to_vec(t)));
    }
}

/// The trainable parameters of a module, by path.
pub fn export<M: Module>(module: &M) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    let mut c = Collect { path: Vec::new(), out: Vec::new() };
    module.visit(&mut c);
    c.out.sort_by(|a, b| a.0.cmp(&b.0));
    c.out
}

/// Serialises exported parameters as safetensors, in f32 (checkpoints) or f16 (shipped
/// packages: half the size, no measurable change in scores).
pub fn to_safetensors(params: &[(String, Vec<usize>, Vec<f32>)], f16: bool) -> Result<Vec<u8>, String> {
    let bytes: Vec<Vec<u8>> = params
        .iter()
        .map(|(_, _, v)| {
            if f16 {
                v.iter().flat_map(|x| half::f16::from_f32(*x).to_le_bytes()).collect()
            } else {
                v.iter().flat_map(|x| x.to_le_bytes()).collect()
            }
        })
        .collect();
    let dtype = if f16 { Dtype::F16 } else { Dtype::F32 };
    let views: Vec<(String, TensorView)> = params
        .iter()
        .zip(&bytes)
        .map(|((n, s, _), b)| TensorView::new(dtype, s.clone(), b).map(|v| (n.clone(), v)))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    safetensors::serialize(views, None).map_err(|e| e.to_string())
}

/// Reads safetensors bytes (f32 or f16) into path → (shape, values).
pub fn from_safetensors(bytes: &[u8]) -> Result<HashMap<String, (Vec<usize>, Vec<f32>)>, String> {
    let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| e.to_string())?;
    let mut out = HashMap::new();
    for (name, view) in st.tensors() {
        let v = match view.dtype() {
            Dtype::F32 => view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
            Dtype::F16 => view.data().chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
            other => return Err(format!("tensor '{name}' is {other:?}, expected F32 or F16")),
        };
        out.insert(name, (view.shape().to_vec(), v));
    }
    Ok(out)
}

struct Assign<'a> {
    path: Vec<String>,
    values: &'a HashMap<String, (Vec<usize>, Vec<f32>)>,
    missing: Vec<String>,
    used: usize,
}

impl ModuleMapper for Assign<'_> {
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
        let Some((shape, values)) = self.values.get(&name) else {
            self.missing.push(name);
            return param;
        };
        let old = param.val();
        if old.dims().as_slice() != shape.as_slice() {
            self.missing.push(format!("{name} (shape {shape:?}, expected {:?})", old.dims()));
            return param;
        }
        self.used += 1;
        let device = old.device();
        let data = TensorData::new(values.clone(), shape.clone());
        let id: ParamId = param.id;
        let require_grad = old.is_require_grad();
        Param::initialized(id, Tensor::<D>::from_data(data, &device).set_require_grad(require_grad))
    }
}

/// Sets a module's trainable parameters from `values`; errors list what is missing or
/// mis-shaped, or left over.
pub fn import<M: Module>(module: M, values: &HashMap<String, (Vec<usize>, Vec<f32>)>) -> Result<M, String> {
    let mut a = Assign { path: Vec::new(), values, missing: Vec::new(), used: 0 };
    let m = module.map(&mut a);
    if !a.missing.is_empty() {
        return Err(format!("parameters missing or mis-shaped: {}", a.missing.join(", ")));
    }
    if a.used != values.len() {
        return Err(format!("{} stored parameters do not belong to this model", values.len() - a.used));
    }
    Ok(m)
}
