// Package composetest checks docker-compose.yaml against the programs and files it names,
// since the stack itself cannot run where the tests run. It owns no production code: its test
// parses the compose file and the provisioning files and verifies that
//
//   - every build context, Dockerfile, build target and bind-mounted file exists, and every
//     named volume is declared;
//   - every lode command line is accepted by lode's own configuration loader (flags and values),
//     and the ports, data directory, object store endpoint and Raft join addresses agree with
//     the services that provide them;
//   - lode-agent's flags exist in the agent's -help, and its config points at a lode service;
//   - Prometheus scrapes every lode node; Grafana loads the plugin folder under the plugin id
//     of plugin.json, and the provisioned datasources, correlation and dashboard refer to each
//     other and to services that exist, with LogQL that lode's parser accepts.
//
// The test builds the lode-agent binary into a temporary directory when the agent exists and
// skips the agent checks, saying so, while backend/cmd/lode-agent has no Go files.
package composetest
