// The pybind11 adapter of the `sluice` Python package: converts values between Python and
// ProjectSession and turns every error Status into a `sluice.Error`. The only file that sees
// pybind11's headers. Calls release the GIL while the engine works.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "python/project_session.h"

namespace py = pybind11;

namespace sluice::python {
namespace {

// Carries a Status's text to pybind11's translator, which raises sluice.Error. Never leaves
// this file as a C++ exception.
class SluiceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename T>
T Unwrap(base::Result<T> r) {
  if (!r.ok()) throw SluiceError(r.status().ToString());
  return std::move(r).value();
}

py::dict ManifestDict(const lake::Manifest& m) {
  py::dict d;
  d["id"] = m.id;
  d["dataset"] = m.dataset;
  d["kind"] = m.kind;
  d["created_at"] = m.created_at;
  d["definition_hash"] = m.definition_hash;
  d["rows_read"] = m.rows.read;
  d["rows_loaded"] = m.rows.loaded;
  d["rows_quarantined"] = m.rows.quarantined;
  std::uint64_t bytes = 0;
  py::list outputs;
  for (const auto& o : m.outputs) {
    bytes += o.bytes;
    py::dict od;
    od["name"] = o.name;
    od["sha256"] = o.sha256;
    od["bytes"] = o.bytes;
    od["rows"] = o.rows;
    outputs.append(od);
  }
  d["bytes"] = bytes;
  d["outputs"] = outputs;
  py::list inputs;
  for (const auto& i : m.inputs) {
    py::dict id;
    id["path"] = i.path;
    id["sha256"] = i.sha256;
    id["bytes"] = i.bytes;
    inputs.append(id);
  }
  d["inputs"] = inputs;
  d["parents"] = m.parents;
  py::list schema;
  for (const auto& f : m.schema.fields())
    schema.append(py::make_tuple(f.name, std::string(types::LogicalTypeName(f.type)), f.nullable));
  d["schema"] = schema;
  return d;
}

template <typename T>
py::array_t<T> FixedArray(const types::Column& c) {
  py::array_t<T> a(static_cast<py::ssize_t>(c.size()));
  if (c.size() > 0) std::memcpy(a.mutable_data(), c.data(), c.size() * sizeof(T));
  return a;
}

// One column as (name, type, values, valid): values a NumPy array (strings: a list with None
// for NULL), valid a bool array or None when every value is present. The Python side turns
// these into pandas columns (sluice/__init__.py says which dtype each type becomes).
py::tuple ColumnTuple(const types::Field& field, const types::Column& c) {
  py::object values;
  switch (c.type()) {
    case types::LogicalType::kBool:
      values = FixedArray<bool>(c);
      break;
    case types::LogicalType::kInt64:
    case types::LogicalType::kTimestamp:
      values = FixedArray<std::int64_t>(c);
      break;
    case types::LogicalType::kDouble:
      values = FixedArray<double>(c);
      break;
    case types::LogicalType::kDate:
      values = FixedArray<std::int32_t>(c);
      break;
    case types::LogicalType::kString: {
      py::list l(c.size());
      for (size_t i = 0; i < c.size(); ++i) {
        if (c.IsValid(i)) {
          const std::string_view s = c.GetString(i);
          l[i] = py::str(s.data(), s.size());
        } else {
          l[i] = py::none();
        }
      }
      values = l;
      break;
    }
  }
  py::object valid = py::none();
  if (!c.AllValid()) {
    py::array_t<bool> v(static_cast<py::ssize_t>(c.size()));
    bool* out = v.mutable_data();
    for (size_t i = 0; i < c.size(); ++i)
      out[i] = c.IsValid(i);
    valid = v;
  }
  return py::make_tuple(field.name, std::string(types::LogicalTypeName(c.type())), values, valid);
}

// A project opened from Python; one call at a time (ProjectSession is single-threaded), the
// GIL released meanwhile so other Python threads run.
class PyProject {
 public:
  explicit PyProject(const std::string& dir) {
    py::gil_scoped_release release;
    session_ = Unwrap(ProjectSession::Open(dir));
  }

  py::tuple TrainingSet(const std::string& name, bool rebuild) {
    base::Result<ProjectSession::TrainingSetData> r = base::Internal("not run");
    {
      py::gil_scoped_release release;
      std::lock_guard lock(mu_);
      r = session_->TrainingSet(name, rebuild);
    }
    auto data = Unwrap(std::move(r));
    py::list columns;
    for (size_t i = 0; i < data.rows.num_columns(); ++i)
      columns.append(ColumnTuple(data.rows.schema().field(i), data.rows.column(i)));
    return py::make_tuple(ManifestDict(data.manifest), columns, data.built);
  }

  py::list Versions(const std::string& dataset) {
    base::Result<std::vector<lake::Manifest>> r = base::Internal("not run");
    {
      py::gil_scoped_release release;
      std::lock_guard lock(mu_);
      r = session_->Versions(dataset);
    }
    py::list out;
    for (const auto& m : Unwrap(std::move(r)))
      out.append(ManifestDict(m));
    return out;
  }

  py::list Lineage(const std::string& node) {
    base::Result<std::vector<registry::LineageEdge>> r = base::Internal("not run");
    {
      py::gil_scoped_release release;
      std::lock_guard lock(mu_);
      r = session_->Lineage(node);
    }
    py::list out;
    for (const auto& e : Unwrap(std::move(r))) {
      py::dict d;
      d["from"] = e.from;
      d["to"] = e.to;
      d["run_id"] = e.run_id;
      out.append(d);
    }
    return out;
  }

  py::tuple OnlineFeatures(const std::string& request_json) {
    base::Result<ProjectSession::OnlineReply> r = base::Internal("not run");
    {
      py::gil_scoped_release release;
      std::lock_guard lock(mu_);
      r = session_->OnlineFeatures(request_json);
    }
    auto reply = Unwrap(std::move(r));
    return py::make_tuple(reply.http_status, reply.body);
  }

  py::dict Definitions() {
    const auto& spec = session_->spec();
    py::dict d;
    py::list views;
    for (const auto& v : spec.feature_views)
      views.append(v.name);
    py::list services;
    for (const auto& s : spec.feature_services)
      services.append(s.name);
    d["name"] = spec.name;
    d["dir"] = spec.dir.string();
    d["feature_views"] = views;
    d["feature_services"] = services;
    return d;
  }

 private:
  std::mutex mu_;
  std::unique_ptr<ProjectSession> session_;
};

}  // namespace
}  // namespace sluice::python

PYBIND11_MODULE(_sluice, m) {
  using sluice::python::PyProject;
  m.doc() = "sluice's engine, lake, registry and online stores, in-process (see docs/python.md)";
  py::register_exception<sluice::python::SluiceError>(m, "Error", PyExc_RuntimeError);
  py::class_<PyProject>(m, "_Project")
      .def(py::init<const std::string&>(), py::arg("path"))
      .def("training_set", &PyProject::TrainingSet, py::arg("name"), py::arg("rebuild"))
      .def("versions", &PyProject::Versions, py::arg("dataset"))
      .def("lineage", &PyProject::Lineage, py::arg("node"))
      .def("online_features", &PyProject::OnlineFeatures, py::arg("request_json"))
      .def("definitions", &PyProject::Definitions);
}
