//! Enum values that the upstream documents state only in prose.
//!
//! The Kubernetes 1.35 OpenAPI v3 documents we embed carry no `enum` keyword at all (the
//! kubectl-validate copies are served without the `OpenAPIEnums` data), yet the checker wants
//! closed value sets for hover and typo hints. Each entry below lists a field whose
//! description names its complete set of valid values; the generator refuses an entry whose
//! values do not all appear in that description, so this table cannot drift from the source.
//! Open-ended fields ("additional values may be added") are deliberately left out.

/// A string field (or a list of strings, whose items get the values) and its valid values.
pub struct EnumOverlay {
    pub type_name: &'static str,
    pub field: &'static str,
    pub values: &'static [&'static str],
}

const fn entry(
    type_name: &'static str,
    field: &'static str,
    values: &'static [&'static str],
) -> EnumOverlay {
    EnumOverlay {
        type_name,
        field,
        values,
    }
}

const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
const PROFILE_TYPES: &[&str] = &["Localhost", "RuntimeDefault", "Unconfined"];
const SET_OPERATORS: &[&str] = &["DoesNotExist", "Exists", "In", "NotIn"];
const TRAFFIC_POLICIES: &[&str] = &["Cluster", "Local"];
const HONOR_OR_IGNORE: &[&str] = &["Honor", "Ignore"];

#[rustfmt::skip]
pub const ENUM_OVERLAY: &[EnumOverlay] = &[
    entry("io.k8s.api.apps.v1.DaemonSetUpdateStrategy", "type", &["OnDelete", "RollingUpdate"]),
    entry("io.k8s.api.apps.v1.DeploymentStrategy", "type", &["Recreate", "RollingUpdate"]),
    entry("io.k8s.api.apps.v1.StatefulSetSpec", "podManagementPolicy", &["OrderedReady", "Parallel"]),
    entry("io.k8s.api.autoscaling.v2.MetricSpec", "type", &["ContainerResource", "External", "Object", "Pods", "Resource"]),
    entry("io.k8s.api.autoscaling.v2.MetricTarget", "type", &["AverageValue", "Utilization", "Value"]),
    entry("io.k8s.api.batch.v1.CronJobSpec", "concurrencyPolicy", &["Allow", "Forbid", "Replace"]),
    entry("io.k8s.api.batch.v1.JobSpec", "completionMode", &["Indexed", "NonIndexed"]),
    entry("io.k8s.api.batch.v1.JobSpec", "podReplacementPolicy", &["Failed", "TerminatingOrFailed"]),
    entry("io.k8s.api.core.v1.AppArmorProfile", "type", PROFILE_TYPES),
    entry("io.k8s.api.core.v1.Container", "imagePullPolicy", PULL_POLICIES),
    entry("io.k8s.api.core.v1.Container", "terminationMessagePolicy", &["FallbackToLogsOnError", "File"]),
    entry("io.k8s.api.core.v1.ContainerPort", "protocol", PROTOCOLS),
    entry("io.k8s.api.core.v1.EphemeralContainer", "imagePullPolicy", PULL_POLICIES),
    entry("io.k8s.api.core.v1.EphemeralContainer", "terminationMessagePolicy", &["FallbackToLogsOnError", "File"]),
    entry("io.k8s.api.core.v1.ImageVolumeSource", "pullPolicy", PULL_POLICIES),
    entry("io.k8s.api.core.v1.NodeSelectorRequirement", "operator", &["DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn"]),
    entry("io.k8s.api.core.v1.PersistentVolumeSpec", "persistentVolumeReclaimPolicy", &["Delete", "Recycle", "Retain"]),
    entry("io.k8s.api.core.v1.PodSecurityContext", "fsGroupChangePolicy", &["Always", "OnRootMismatch"]),
    entry("io.k8s.api.core.v1.PodSecurityContext", "seLinuxChangePolicy", &["MountOption", "Recursive"]),
    entry("io.k8s.api.core.v1.PodSecurityContext", "supplementalGroupsPolicy", &["Merge", "Strict"]),
    entry("io.k8s.api.core.v1.PodSpec", "dnsPolicy", &["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"]),
    entry("io.k8s.api.core.v1.PodSpec", "preemptionPolicy", &["Never", "PreemptLowerPriority"]),
    entry("io.k8s.api.core.v1.PodSpec", "restartPolicy", &["Always", "Never", "OnFailure"]),
    entry("io.k8s.api.core.v1.ScopedResourceSelectorRequirement", "operator", SET_OPERATORS),
    entry("io.k8s.api.core.v1.SeccompProfile", "type", PROFILE_TYPES),
    entry("io.k8s.api.core.v1.ServicePort", "protocol", PROTOCOLS),
    entry("io.k8s.api.core.v1.ServiceSpec", "externalTrafficPolicy", TRAFFIC_POLICIES),
    entry("io.k8s.api.core.v1.ServiceSpec", "internalTrafficPolicy", TRAFFIC_POLICIES),
    entry("io.k8s.api.core.v1.ServiceSpec", "ipFamilies", &["IPv4", "IPv6"]),
    entry("io.k8s.api.core.v1.ServiceSpec", "ipFamilyPolicy", &["PreferDualStack", "RequireDualStack", "SingleStack"]),
    entry("io.k8s.api.core.v1.ServiceSpec", "sessionAffinity", &["ClientIP", "None"]),
    entry("io.k8s.api.core.v1.ServiceSpec", "type", &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]),
    entry("io.k8s.api.core.v1.Toleration", "effect", &["NoExecute", "NoSchedule", "PreferNoSchedule"]),
    entry("io.k8s.api.core.v1.Toleration", "operator", &["Equal", "Exists", "Gt", "Lt"]),
    entry("io.k8s.api.core.v1.TopologySpreadConstraint", "nodeAffinityPolicy", HONOR_OR_IGNORE),
    entry("io.k8s.api.core.v1.TopologySpreadConstraint", "nodeTaintsPolicy", HONOR_OR_IGNORE),
    entry("io.k8s.api.core.v1.TopologySpreadConstraint", "whenUnsatisfiable", &["DoNotSchedule", "ScheduleAnyway"]),
    entry("io.k8s.api.core.v1.VolumeMount", "recursiveReadOnly", &["Disabled", "Enabled", "IfPossible"]),
    entry("io.k8s.api.networking.v1.HTTPIngressPath", "pathType", &["Exact", "ImplementationSpecific", "Prefix"]),
    entry("io.k8s.api.networking.v1.NetworkPolicySpec", "policyTypes", &["Egress", "Ingress"]),
    entry("io.k8s.api.policy.v1.PodDisruptionBudgetSpec", "unhealthyPodEvictionPolicy", &["AlwaysAllow", "IfHealthyBudget"]),
    entry("io.k8s.api.rbac.v1.Subject", "kind", &["Group", "ServiceAccount", "User"]),
    entry("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement", "operator", SET_OPERATORS),
];
