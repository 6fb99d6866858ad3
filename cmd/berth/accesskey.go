package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"regexp"
	"text/tabwriter"
	"time"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/config"
	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/storage/crypt"
)

const accessKeyUsage = "berth access-key create [--user NAME] | list [--user NAME] | deactivate ID | activate ID | delete ID  [--config file]"

// userNameRE is IAM's user-name pattern.
var userNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// accessKey manages API access keys on the store a running berth uses
// (SQLite allows a second process; PostgreSQL is shared anyway). A
// deactivated or deleted key stops signing API calls and its login tokens
// stop working within seconds. Until IAM policies (the IAM issue), every
// key of the registry's account may do everything.
func accessKey(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", config.ErrUsage, accessKeyUsage)
	}
	sub, rest, id := args[0], args[1:], ""
	switch sub {
	case "activate", "deactivate", "delete":
		if len(rest) == 0 || rest[0] == "" || rest[0][0] == '-' {
			return fmt.Errorf("%w: %s", config.ErrUsage, accessKeyUsage)
		}
		id, rest = rest[0], rest[1:]
	case "create", "list":
	default:
		return fmt.Errorf("%w: %s", config.ErrUsage, accessKeyUsage)
	}
	var user string
	c, _, err := loadConfig("access-key "+sub, rest, func(fl *flag.FlagSet) {
		if sub == "create" || sub == "list" {
			fl.StringVar(&user, "user", "", "IAM user name (create: default berth-admin)")
		}
	})
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, err := metadata.Open(ctx, c.Metadata.Engine, c.Metadata.DSN)
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	defer st.Close()
	arn := func(name string) string { return "arn:aws:iam::" + c.ECR.RegistryID + ":user/" + name }
	switch sub {
	case "create":
		if user == "" {
			user = "berth-admin"
		}
		if !userNameRE.MatchString(user) {
			return fmt.Errorf("%w: --user %q is not an IAM user name", config.ErrUsage, user)
		}
		kr, err := crypt.LoadOrCreateKeyring(c.Storage.Keyring)
		if err != nil {
			return fmt.Errorf("storage.keyring: %w", err)
		}
		id, secret, err := auth.NewAccessKey("AKIA")
		if err != nil {
			return err
		}
		sealed, err := auth.SealSecret(kr, secret)
		if err != nil {
			return err
		}
		if err := st.EnsureRegistry(ctx, c.ECR.RegistryID); err != nil {
			return err
		}
		if err := st.CreateAccessKey(ctx, metadata.AccessKey{ID: id, Secret: sealed, Principal: arn(user),
			Account: c.ECR.RegistryID, Status: metadata.KeyActive, CreatedAt: time.Now()}); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "berth: access key for %s (the secret is shown this once):\n", arn(user))
		fmt.Printf("aws_access_key_id = %s\naws_secret_access_key = %s\n", id, secret)
		return nil
	case "list":
		p := ""
		if user != "" {
			p = arn(user)
		}
		keys, err := st.ListAccessKeys(ctx, p)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACCESS KEY ID\tSTATUS\tPRINCIPAL\tCREATED")
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Status, k.Principal, k.CreatedAt.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	case "activate", "deactivate", "delete":
		if _, err := st.GetAccessKey(ctx, id); err != nil {
			if metadata.Is(err, metadata.NotFound) {
				return fmt.Errorf("no access key %s", id)
			}
			return err
		}
		switch sub {
		case "delete":
			err = st.DeleteAccessKey(ctx, id)
		case "activate":
			err = st.SetAccessKeyStatus(ctx, id, metadata.KeyActive)
		default:
			err = st.SetAccessKeyStatus(ctx, id, metadata.KeyInactive)
		}
		if err == nil {
			fmt.Fprintf(os.Stderr, "berth: access key %s %sd\n", id, sub)
		}
		return err
	}
	return fmt.Errorf("%w: %s", config.ErrUsage, accessKeyUsage)
}
