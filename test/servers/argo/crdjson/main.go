// Command crdjson converts CRD manifests from YAML to compact JSON.
//
// The full Argo CRDs are too big as YAML for one API request (the workflows CRD is
// over kube-apiserver's 3 MiB body limit) and slow to parse in JavaScript; as
// compact JSON they fit and the test harness sends them as they are.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: crdjson DIR (writes X.json beside each X.yaml)")
		os.Exit(2)
	}
	files, err := filepath.Glob(filepath.Join(os.Args[1], "*.yaml"))
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("no *.yaml files in %s", os.Args[1])
	}
	for _, file := range files {
		if err != nil {
			break
		}
		err = convert(file, strings.TrimSuffix(file, ".yaml")+".json")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "crdjson:", err)
		os.Exit(1)
	}
}

func convert(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	out, err := yaml.YAMLToJSON(data)
	if err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	return os.WriteFile(to, out, 0o644)
}
