// Command gpx_lode is the backend of the Lode Grafana datasource plugin. Grafana starts it
// (as gpx_lode_<os>_<arch>) and talks to it over hashicorp/go-plugin's gRPC protocol.
package main

import (
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/lode-logs/lode/pkg/plugin"
)

func main() {
	if err := datasource.Manage(plugin.ID, plugin.NewDatasource, datasource.ManageOpts{}); err != nil {
		log.DefaultLogger.Error("Plugin stopped", "error", err.Error())
		os.Exit(1)
	}
}
