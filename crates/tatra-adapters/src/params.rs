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
