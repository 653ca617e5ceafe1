// Command argocd runs Argo CD's application controller or repo server, chosen by
// ARGOCD_BINARY_NAME as upstream's multi-call binary (cmd/main.go) chooses. Upstream's
// main also links the API server, which embeds ui/dist/app — absent from the module zip —
// so this one links only the two components a sync needs, set up as upstream's main does.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	controller "github.com/argoproj/argo-cd/v3/cmd/argocd-application-controller/commands"
	reposerver "github.com/argoproj/argo-cd/v3/cmd/argocd-repo-server/commands"
	"github.com/argoproj/argo-cd/v3/common"
	"github.com/argoproj/argo-cd/v3/util/log"
)

func init() {
	klog.SetLogger(log.NewLogrusLogger(log.NewWithCurrentConfig()))
}

// Upstream's main also calls util/grpc.DisableSRVLookups, which turns off the gRPC DNS SRV
// lookups that grpc's balancer/grpclb package turns on when linked, and panics when they are
// already off. The two components here do not link grpclb, so they are off, and it is not called.
func main() {
	var command *cobra.Command
	switch name := os.Getenv("ARGOCD_BINARY_NAME"); name {
	case common.CommandApplicationController:
		command = controller.NewCommand()
	case common.CommandRepoServer:
		command = reposerver.NewCommand()
	default:
		fmt.Fprintf(os.Stderr, "ARGOCD_BINARY_NAME must be %s or %s, not %q\n",
			common.CommandApplicationController, common.CommandRepoServer, name)
		os.Exit(2)
	}
	if err := command.Execute(); err != nil {
		os.Exit(1)
	}
}
