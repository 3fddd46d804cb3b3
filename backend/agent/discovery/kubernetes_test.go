package discovery

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/lode-logs/lode/backend/agent/config"
)

func pod(name, node string, containers ...string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "prod", UID: types.UID("uid-" + name),
			Labels: map[string]string{"app.kubernetes.io/name": "api"}, Annotations: map[string]string{"team": "a"},
			OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "api-123", Controller: boolPtr(true)}}},
		Spec: corev1.PodSpec{NodeName: node},
		Status: corev1.PodStatus{PodIP: "10.0.0.1", HostIP: "192.168.0.1", Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	for _, c := range containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c, Image: "img/" + c})
	}
	p.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}
	return p
}

func boolPtr(b bool) *bool { return &b }

func TestPodGroupLabels(t *testing.T) {
	g := PodGroup(pod("api-1", "node-1", "main", "sidecar"))
	want := map[model.LabelName]model.LabelValue{
		"__meta_kubernetes_namespace":                               "prod",
		"__meta_kubernetes_pod_name":                                "api-1",
		"__meta_kubernetes_pod_uid":                                 "uid-api-1",
		"__meta_kubernetes_pod_node_name":                           "node-1",
		"__meta_kubernetes_pod_ready":                               "true",
		"__meta_kubernetes_pod_phase":                               "Running",
		"__meta_kubernetes_pod_label_app_kubernetes_io_name":        "api",
		"__meta_kubernetes_pod_labelpresent_app_kubernetes_io_name": "true",
		"__meta_kubernetes_pod_annotation_team":                     "a",
		"__meta_kubernetes_pod_controller_kind":                     "ReplicaSet",
		"__meta_kubernetes_pod_controller_name":                     "api-123",
		"__meta_kubernetes_pod_host_ip":                             "192.168.0.1",
	}
	for k, v := range want {
		if g.Labels[k] != v {
			t.Errorf("%s = %q, want %q", k, g.Labels[k], v)
		}
	}
	if len(g.Targets) != 2 {
		t.Fatalf("%d targets", len(g.Targets))
	}
	if tg := g.Targets[0]; tg["__address__"] != "10.0.0.1:8080" || tg["__meta_kubernetes_pod_container_port_name"] != "http" || tg["__meta_kubernetes_pod_container_name"] != "main" {
		t.Errorf("first target %v", tg)
	}
	if tg := g.Targets[1]; tg["__address__"] != "10.0.0.1" || tg["__meta_kubernetes_pod_container_name"] != "sidecar" || tg["__meta_kubernetes_pod_container_init"] != "false" {
		t.Errorf("second target %v", tg)
	}
}

// TestKubernetesWatch runs discovery against client-go's fake clientset:
// pods added and deleted show up in the groups.
func TestKubernetesWatch(t *testing.T) {
	// The fake clientset does not send the bookmarks of streaming lists.
	t.Setenv("KUBE_FEATURE_WatchListClient", "false")
	client := fake.NewSimpleClientset(pod("api-1", "node-1", "main"))
	var mu sync.Mutex
	var last []Group
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Kubernetes(config.KubernetesSDConfig{Role: "pod"}, client, nil).Run(ctx, func(gs []Group) {
		mu.Lock()
		last = gs
		mu.Unlock()
	})
	wait := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			got := len(last)
			mu.Unlock()
			if got == n {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("want %d groups, have %d", n, len(last))
	}
	wait(1)
	if _, err := client.CoreV1().Pods("prod").Create(ctx, pod("api-2", "node-1", "main"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	wait(2)
	if err := client.CoreV1().Pods("prod").Delete(ctx, "api-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	wait(1)
	mu.Lock()
	defer mu.Unlock()
	if last[0].Labels["__meta_kubernetes_pod_name"] != "api-2" {
		t.Fatalf("left %v", last[0].Labels)
	}
}
