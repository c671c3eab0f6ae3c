package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/renewbot/renewbot/storage/postgres"
)

func runImport(ctx context.Context, cfg Config, paths []string, stdout io.Writer) error {
	if len(paths) == 0 {
		return errors.New("import: give one or more CSV files")
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	var files []postgres.ImportFile
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		files = append(files, postgres.ImportFile{Name: p, R: f})
	}
	rep, err := db.Import(ctx, files, postgres.WithLocation(cfg.loc))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "import: %v\n", rep)
	return nil
}
