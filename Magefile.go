//go:build mage

// Build, test and benchmark targets for Lode. Run them with
//
//	go run github.com/magefile/mage <target>
//
// so nothing but Go (and Node for the plugin frontend) has to be installed.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/build"
	"github.com/magefile/mage/mg"
	"github.com/magefile/mage/sh"
)

// minioModule is the MinIO server the tests run against, pinned.
const minioModule = "github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"

// binDir holds tools the tests install (gitignored).
func binDir() string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, ".bin")
}

// Build builds lode and lode-agent into ./bin.
func Build() error {
	for _, cmd := range []string{"lode", "lode-agent", "lode-loadgen"} {
		if _, err := os.Stat(filepath.Join("backend", "cmd", cmd)); err != nil {
			continue
		}
		out := filepath.Join("bin", cmd)
		if runtime.GOOS == "windows" {
			out += ".exe"
		}
		if err := sh.RunV("go", "build", "-o", out, "./backend/cmd/"+cmd); err != nil {
			return fmt.Errorf("build %s: %w", cmd, err)
		}
	}
	return nil
}

// Minio installs the pinned MinIO server into ./.bin (reusing the Go caches).
func Minio() error {
	bin := filepath.Join(binDir(), "minio")
	stamp := bin + ".version"
	if b, err := os.ReadFile(stamp); err == nil && string(b) == minioModule {
		if _, err := os.Stat(bin); err == nil {
			return nil
		}
	}
	fmt.Println("installing", minioModule)
	env := map[string]string{"GOBIN": binDir(), "CGO_ENABLED": "0"}
	if err := sh.RunWithV(env, "go", "install", minioModule); err != nil {
		return fmt.Errorf("install minio: %w", err)
	}
	return os.WriteFile(stamp, []byte(minioModule), 0o644)
}

// Test runs every test: Go (against a real MinIO), then builds the plugin
// backend for every platform and runs the plugin frontend's checks and tests
// on the complete dist/.
func Test() error {
	mg.Deps(Minio)
	env := map[string]string{
		"LODE_MINIO_BIN":     filepath.Join(binDir(), "minio"),
		"LODE_REQUIRE_MINIO": "1",
	}
	if err := sh.RunV("go", append([]string{"vet"}, goPackages...)...); err != nil {
		return err
	}
	args := append([]string{"test", "-count=1", "-timeout=40m"}, goPackages...)
	if err := sh.RunWithV(env, "go", args...); err != nil {
		return err
	}
	if err := PluginBackend(); err != nil {
		return err
	}
	return frontend(true)
}

// Frontend installs the plugin frontend's locked dependencies, type-checks,
// lints, builds dist/ and runs the jest tests (which check the built dist/;
// the plugin backend binaries are checked only by Test, which builds them).
func Frontend() error { return frontend(false) }

func frontend(requireBinaries bool) error {
	env := map[string]string{}
	verify := []string{"run", "verify-dist"}
	if requireBinaries {
		env["LODE_REQUIRE_PLUGIN_BINARIES"] = "1"
		verify = append(verify, "--", "--require-binaries")
	}
	for _, args := range [][]string{
		{"ci", "--prefer-offline", "--no-audit", "--no-fund"},
		{"run", "typecheck"},
		{"run", "lint"},
		{"run", "build"},
		{"run", "test:ci"},
		verify,
	} {
		if err := sh.RunWithV(env, "npm", args...); err != nil {
			return fmt.Errorf("npm %s: %w", strings.Join(args, " "), err)
		}
	}
	return nil
}

// goPackages are the module's Go packages (node_modules may hold stray Go
// files, so ./... is not used).
var goPackages = []string{"./backend/...", "./pkg/..."}

// Figures measures ingest throughput, server CPU, peak RSS, storage ratio and
// query latency on 1 GiB of generated logs (see TestIngestFigures).
func Figures() error {
	env := map[string]string{"LODE_FIGURES": "1"}
	return sh.RunWithV(env, "go", "test", "-count=1", "-timeout=60m", "-run=TestIngestFigures", "-v", "./backend/cmd/lode")
}

// Bench runs the Go benchmarks once each.
func Bench() error {
	args := append([]string{"test", "-run=^$", "-bench=.", "-benchmem", "-benchtime=1x"}, goPackages...)
	return sh.RunV("go", args...)
}

// Plugin
//
// Targets of the Grafana plugin backend (pkg/). The root plugin.json is the single source:
// the SDK's build reads it in place (through its before-build callback) and PluginBackend
// copies it into dist/, next to the binaries, where Grafana expects it.

// pluginPlatforms are the platforms the plugin backend ships for, as gpx_lode_<os>_<arch>.
func pluginPlatforms() []func(build.Build) error {
	return []func(build.Build) error{
		build.Build.Linux,       // linux/amd64
		build.Build.LinuxARM64,  // linux/arm64
		build.Build.DarwinARM64, // darwin/arm64
		build.Build.Windows,     // windows/amd64 (.exe)
	}
}

// usePluginJSONAtRoot points the SDK's build at the root plugin.json and at dist/.
func usePluginJSONAtRoot() error {
	return build.SetBeforeBuildCallback(func(cfg build.Config) (build.Config, error) {
		cfg.PluginJSONPath = "."
		cfg.OutputBinaryPath = "dist"
		return cfg, nil
	})
}

// PluginBackend builds the Grafana plugin backend for linux/amd64, linux/arm64, darwin/arm64
// and windows/amd64 into dist/ and copies plugin.json there.
func PluginBackend() error {
	if err := usePluginJSONAtRoot(); err != nil {
		return err
	}
	for _, b := range pluginPlatforms() {
		if err := b(build.Build{}); err != nil {
			return fmt.Errorf("build plugin backend: %w", err)
		}
	}
	return copyPluginJSON()
}

// PluginBackendHost builds the plugin backend for this machine only, into dist/.
func PluginBackendHost() error {
	if err := usePluginJSONAtRoot(); err != nil {
		return err
	}
	if err := (build.Build{}).Custom(runtime.GOOS, runtime.GOARCH); err != nil {
		return fmt.Errorf("build plugin backend: %w", err)
	}
	return copyPluginJSON()
}

func copyPluginJSON() error {
	b, err := os.ReadFile("plugin.json")
	if err != nil {
		return fmt.Errorf("read plugin.json: %w", err)
	}
	if err := os.MkdirAll("dist", 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join("dist", "plugin.json"), b, 0o644)
}
