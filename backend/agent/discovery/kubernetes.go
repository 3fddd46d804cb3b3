package discovery

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/util/strutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/lode-logs/lode/backend/agent/config"
)

// KubernetesClient builds a clientset for c: in-cluster when api_server and
// kubeconfig_file are empty, from the kubeconfig file, or for api_server
// with the HTTP client settings (TLS, bearer token, basic auth).
func KubernetesClient(c config.KubernetesSDConfig) (kubernetes.Interface, error) {
	var rc *rest.Config
	var err error
	switch {
	case c.KubeConfig != "":
		rc, err = clientcmd.BuildConfigFromFlags("", c.KubeConfig)
	case c.APIServer == "":
		rc, err = rest.InClusterConfig()
	default:
		var rt = commoncfg.HTTPClientConfig(c.HTTP)
		tr, terr := commoncfg.NewRoundTripperFromConfig(rt, "lode-agent-kubernetes-sd")
		if terr != nil {
			return nil, fmt.Errorf("kubernetes_sd_configs: %w", terr)
		}
		rc = &rest.Config{Host: c.APIServer, Transport: tr, Timeout: 30 * time.Second}
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes_sd_configs: %w", err)
	}
	rc.UserAgent = "lode-agent"
	return kubernetes.NewForConfig(rc)
}

// Kubernetes discovers one target per container (and per declared port)
// of the pods the API lists, with Prometheus' __meta_kubernetes_pod_*
// labels, watching for changes.
func Kubernetes(c config.KubernetesSDConfig, client kubernetes.Interface, logger *slog.Logger) Provider {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &kubeSD{c: c, client: client, logger: logger}
}

type kubeSD struct {
	c      config.KubernetesSDConfig
	client kubernetes.Interface
	logger *slog.Logger
}

func (k *kubeSD) namespaces() []string {
	if k.c.Namespaces == nil {
		return []string{metav1.NamespaceAll}
	}
	ns := append([]string(nil), k.c.Namespaces.Names...)
	if k.c.Namespaces.OwnNamespace {
		if b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace"); err == nil {
			ns = append(ns, strings.TrimSpace(string(b)))
		}
	}
	if len(ns) == 0 {
		return []string{metav1.NamespaceAll}
	}
	return ns
}

func (k *kubeSD) Run(ctx context.Context, up Updater) {
	var label, field string
	for _, s := range k.c.Selectors {
		if s.Role == "pod" {
			label, field = s.Label, s.Field
		}
	}
	if field != "" {
		if _, err := fields.ParseSelector(field); err != nil {
			k.logger.Error("kubernetes_sd: invalid field selector", "selector", field, "err", err)
			return
		}
	}
	changed := make(chan struct{}, 1)
	notify := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { notify() },
		UpdateFunc: func(any, any) { notify() },
		DeleteFunc: func(any) { notify() },
	}
	var stores []cache.Store
	for _, ns := range k.namespaces() {
		lw := &cache.ListWatch{
			ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				o.LabelSelector, o.FieldSelector = label, field
				return k.client.CoreV1().Pods(ns).List(ctx, o)
			},
			WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
				o.LabelSelector, o.FieldSelector = label, field
				return k.client.CoreV1().Pods(ns).Watch(ctx, o)
			},
		}
		inf := cache.NewSharedIndexInformer(lw, &corev1.Pod{}, 0, cache.Indexers{})
		if _, err := inf.AddEventHandler(handler); err != nil {
			k.logger.Error("kubernetes_sd: add event handler", "err", err)
			return
		}
		go inf.RunWithContext(ctx)
		stores = append(stores, inf.GetStore())
		if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			return
		}
	}
	for {
		var groups []Group
		for _, st := range stores {
			for _, o := range st.List() {
				if pod, ok := o.(*corev1.Pod); ok {
					groups = append(groups, PodGroup(pod))
				}
			}
		}
		up(groups)
		select {
		case <-ctx.Done():
			return
		case <-changed:
			time.Sleep(100 * time.Millisecond) // coalesce bursts of events
		}
	}
}

const metaPod = model.MetaLabelPrefix + "kubernetes_pod_"

// PodGroup is the target group of a pod: one target per container port,
// or per container without ports, labelled as Prometheus' pod role does.
func PodGroup(pod *corev1.Pod) Group {
	g := Group{Source: "pod/" + pod.Namespace + "/" + pod.Name, Labels: podLabels(pod)}
	add := func(c corev1.Container, cs []corev1.ContainerStatus, init bool) {
		base := model.LabelSet{
			metaPod + "container_name":  model.LabelValue(c.Name),
			metaPod + "container_image": model.LabelValue(c.Image),
			metaPod + "container_init":  model.LabelValue(strconv.FormatBool(init)),
		}
		for _, s := range cs {
			if s.Name == c.Name && s.ContainerID != "" {
				base[metaPod+"container_id"] = model.LabelValue(s.ContainerID)
			}
		}
		if len(c.Ports) == 0 {
			t := base.Clone()
			t[model.AddressLabel] = model.LabelValue(pod.Status.PodIP)
			g.Targets = append(g.Targets, t)
			return
		}
		for _, p := range c.Ports {
			port := strconv.Itoa(int(p.ContainerPort))
			t := base.Clone()
			t[model.AddressLabel] = model.LabelValue(net.JoinHostPort(pod.Status.PodIP, port))
			t[metaPod+"container_port_name"] = model.LabelValue(p.Name)
			t[metaPod+"container_port_number"] = model.LabelValue(port)
			t[metaPod+"container_port_protocol"] = model.LabelValue(p.Protocol)
			g.Targets = append(g.Targets, t)
		}
	}
	for _, c := range pod.Spec.InitContainers {
		add(c, pod.Status.InitContainerStatuses, true)
	}
	for _, c := range pod.Spec.Containers {
		add(c, pod.Status.ContainerStatuses, false)
	}
	return g
}

func podLabels(pod *corev1.Pod) model.LabelSet {
	ls := model.LabelSet{
		model.MetaLabelPrefix + "kubernetes_namespace": model.LabelValue(pod.Namespace),
		metaPod + "name":      model.LabelValue(pod.Name),
		metaPod + "ip":        model.LabelValue(pod.Status.PodIP),
		metaPod + "ready":     model.LabelValue(podReady(pod)),
		metaPod + "phase":     model.LabelValue(pod.Status.Phase),
		metaPod + "node_name": model.LabelValue(pod.Spec.NodeName),
		metaPod + "host_ip":   model.LabelValue(pod.Status.HostIP),
		metaPod + "uid":       model.LabelValue(pod.UID),
	}
	for k, v := range pod.Labels {
		n := strutil.SanitizeLabelName(k)
		ls[model.LabelName(metaPod+"label_"+n)] = model.LabelValue(v)
		ls[model.LabelName(metaPod+"labelpresent_"+n)] = "true"
	}
	for k, v := range pod.Annotations {
		n := strutil.SanitizeLabelName(k)
		ls[model.LabelName(metaPod+"annotation_"+n)] = model.LabelValue(v)
		ls[model.LabelName(metaPod+"annotationpresent_"+n)] = "true"
	}
	if ref := metav1.GetControllerOf(pod); ref != nil {
		ls[metaPod+"controller_kind"] = model.LabelValue(ref.Kind)
		ls[metaPod+"controller_name"] = model.LabelValue(ref.Name)
	}
	return ls
}

func podReady(pod *corev1.Pod) string {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return strings.ToLower(string(c.Status))
		}
	}
	return "unknown"
}
