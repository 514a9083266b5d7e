// Package chart holds the tests of the Helm chart (charts/lattice) and of the
// kustomize overlay (config/default) that install the operator: helm lint and
// template, the values schema, the copies of the generated CRDs and RBAC rules, the
// values table of the chart's README, and a real kube-apiserver (envtest) that accepts
// everything they render, admits the operator's pod under the "restricted" Pod
// Security Standard, and runs the operator itself under the rendered RBAC.
//
// The tests build helm with hack/helm.sh and take kube-apiserver and etcd from
// KUBEBUILDER_ASSETS or hack/envtest.sh, both cached under .cache/.
package chart
