package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/berth-registry/berth/config"
	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/iam"
	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/storage/crypt"
)

const iamUsage = `usage: berth iam <command> [--config file] [--data-dir dir] [flags]

Identities live in the metadata store a running berth uses; changes take
effect within seconds. Secrets are printed once, when they are made.

  create-account           --account ID [--name NAME]
  create-user              --user NAME [--path /p/] [--tag k=v]...
  create-role              --role NAME --trust DOC [--max-session SECONDS] [--path /p/] [--tag k=v]...
  update-role              --role NAME [--trust DOC] [--max-session SECONDS]
  delete-user | delete-role  --user NAME | --role NAME
  create-access-key        --user NAME
  list-access-keys         [--user NAME]
  update-access-key        --id AKIA… --status Active|Inactive
  delete-access-key        --id AKIA…
  create-service-key       --service codebuild.amazonaws.com
  put-policy               --user NAME | --role NAME  --name POLICY --document DOC
  delete-policy            --user NAME | --role NAME  --name POLICY
  attach-policy            --user NAME | --role NAME  --policy NAME-OR-ARN
  detach-policy            --user NAME | --role NAME  --policy NAME-OR-ARN
  set-boundary             --user NAME | --role NAME  [--policy NAME-OR-ARN] (none: remove it)
  create-policy            --name POLICY --document DOC [--path /p/] [--description TEXT]
  create-registry-credential  --role NAME | --user NAME  [--ttl DURATION] [--registry HOST]
  delete-registry-credential  --id BRC…
  revoke-sessions          --role NAME
  create-oidc-provider     --url https://ISSUER --client-id ID... (AssumeRoleWithWebIdentity)
  delete-oidc-provider     --url https://ISSUER
  list                     users, roles, policies, keys and registry credentials
  apply                    --file FILE (the declarative identity file, as iam.file)

Every command takes --account ID (default: ecr.registry_id). DOC is JSON
text, or file://PATH, or a path.
`

// iamFlags are the flags of every iam subcommand.
type iamFlags struct {
	account, user, role, path, trust, name, doc, policy, id, status, service, description, file, registry string
	maxSession                                                                                            int
	ttl                                                                                                   time.Duration
	tags                                                                                                  tagFlags
	url                                                                                                   string
	clientIDs                                                                                             listFlag
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

type tagFlags []metadata.ResourceTag

func (t *tagFlags) String() string { return fmt.Sprint(*t) }
func (t *tagFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return errors.New("want key=value")
	}
	*t = append(*t, metadata.ResourceTag{Key: k, Value: val})
	return nil
}

func iamCmd(args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(os.Stderr, iamUsage)
		return fmt.Errorf("%w: berth iam <command>", config.ErrUsage)
	}
	sub := args[0]
	var f iamFlags
	c, _, err := loadConfig("iam "+sub, args[1:], func(fl *flag.FlagSet) {
		fl.StringVar(&f.account, "account", "", "account id (default: ecr.registry_id)")
		fl.StringVar(&f.user, "user", "", "IAM user name")
		fl.StringVar(&f.role, "role", "", "IAM role name")
		fl.StringVar(&f.path, "path", "/", "IAM path")
		fl.StringVar(&f.trust, "trust", "", "trust policy document")
		fl.StringVar(&f.name, "name", "", "name (account, policy)")
		fl.StringVar(&f.doc, "document", "", "policy document")
		fl.StringVar(&f.policy, "policy", "", "managed policy name or ARN")
		fl.StringVar(&f.id, "id", "", "access key or registry credential id")
		fl.StringVar(&f.status, "status", "", "Active or Inactive")
		fl.StringVar(&f.service, "service", "", "service principal")
		fl.StringVar(&f.description, "description", "", "description")
		fl.StringVar(&f.file, "file", "", "declarative identity file")
		fl.StringVar(&f.registry, "registry", "", "registry host for the printed docker config (default: ecr.public_host)")
		fl.IntVar(&f.maxSession, "max-session", 0, "longest role session in seconds")
		fl.DurationVar(&f.ttl, "ttl", 0, "registry credential lifetime (0: no expiry)")
		fl.Var(&f.tags, "tag", "tag key=value (repeatable)")
		fl.StringVar(&f.url, "url", "", "OIDC issuer URL (https://…)")
		fl.Var(&f.clientIDs, "client-id", "OIDC client id / audience (repeatable)")
	})
	if err != nil {
		return err
	}
	if f.account == "" {
		f.account = c.ECR.RegistryID
	}
	ctx := context.Background()
	st, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer st.Close()
	// The server's keyring seals the secrets it will open: never a new one.
	kr, err := crypt.LoadKeyring(c.Storage.Keyring)
	if err != nil {
		return fmt.Errorf("storage.keyring: %w", err)
	}
	r := iamRun{ctx: ctx, c: c, f: f, svc: &iam.Service{Store: st, Keyring: kr}, out: os.Stdout}
	return r.do(sub)
}

// iamRun runs one subcommand.
type iamRun struct {
	ctx context.Context
	c   *config.Config
	f   iamFlags
	svc *iam.Service
	out io.Writer
}

func usageErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", config.ErrUsage, fmt.Sprintf(format, a...))
}

func (r iamRun) do(sub string) error {
	f, svc, ctx := r.f, r.svc, r.ctx
	switch sub {
	case "create-account":
		created, err := svc.EnsureAccount(ctx, f.account, f.name)
		if err == nil && !created {
			return fmt.Errorf("account %s already exists", f.account)
		}
		return r.done(err, "account %s created", f.account)
	case "create-user":
		u, err := svc.CreateUser(ctx, f.account, need(f.user, "--user"), f.path, f.tags)
		return r.done(err, "user %s created", u.ARN)
	case "create-role":
		doc, err := readDoc(need(f.trust, "--trust"))
		if err != nil {
			return err
		}
		p, err := svc.CreateRole(ctx, f.account, need(f.role, "--role"), f.path, doc, f.maxSession, f.tags)
		return r.done(err, "role %s created", p.ARN)
	case "update-role":
		doc := ""
		if f.trust != "" {
			var err error
			if doc, err = readDoc(f.trust); err != nil {
				return err
			}
		}
		arn, err := r.principal(metadata.KindRole)
		if err != nil {
			return err
		}
		return r.done(svc.UpdateRole(ctx, arn, doc, f.maxSession), "role %s updated", arn)
	case "delete-user", "delete-role":
		arn, err := r.principal(strings.TrimPrefix(sub, "delete-"))
		if err != nil {
			return err
		}
		return r.done(svc.DeletePrincipal(ctx, arn), "%s deleted, with its keys, sessions and policies", arn)
	case "create-access-key":
		arn, err := r.principal(metadata.KindUser)
		if err != nil {
			return err
		}
		id, secret, err := svc.CreateAccessKey(ctx, arn)
		return r.secret(err, "access key for "+arn, id, secret)
	case "create-service-key":
		id, secret, err := svc.CreateServiceKey(ctx, f.account, need(f.service, "--service"))
		return r.secret(err, "service credential for "+f.service+" in account "+f.account, id, secret)
	case "list-access-keys":
		return r.listKeys()
	case "update-access-key":
		if f.status != metadata.KeyActive && f.status != metadata.KeyInactive {
			return usageErr("--status must be Active or Inactive")
		}
		return r.done(svc.SetAccessKeyStatus(ctx, need(f.id, "--id"), f.status == metadata.KeyActive), "access key %s is %s", f.id, f.status)
	case "delete-access-key":
		return r.done(svc.DeleteAccessKey(ctx, need(f.id, "--id")), "access key %s deleted", f.id)
	case "put-policy", "delete-policy", "attach-policy", "detach-policy":
		return r.principalPolicy(sub)
	case "set-boundary":
		arn, err := r.principal("")
		if err != nil {
			return err
		}
		if f.policy == "" {
			return r.done(svc.SetPermissionsBoundary(ctx, arn, ""), "%s has no permissions boundary", arn)
		}
		pa, err := iam.ResolvePolicyARN(f.policy)
		if err != nil {
			return err
		}
		return r.done(svc.SetPermissionsBoundary(ctx, arn, pa), "%s is bounded by %s", arn, pa)
	case "create-policy":
		doc, err := readDoc(need(f.doc, "--document"))
		if err != nil {
			return err
		}
		arn, err := svc.PutManagedPolicy(ctx, f.account, need(f.name, "--name"), f.path, doc, f.description)
		return r.done(err, "policy %s stored", arn)
	case "create-registry-credential":
		return r.registryCredential()
	case "delete-registry-credential":
		return r.done(svc.DeleteRegistryCredential(ctx, need(f.id, "--id")), "registry credential %s deleted", f.id)
	case "revoke-sessions":
		arn, err := r.principal(metadata.KindRole)
		if err != nil {
			return err
		}
		n, err := svc.RevokeSessions(ctx, arn)
		return r.done(err, "%d session(s) of %s revoked", n, arn)
	case "create-oidc-provider":
		p, err := svc.CreateOpenIDConnectProvider(ctx, f.account, need(f.url, "--url"), f.clientIDs, nil, f.tags)
		return r.done(err, "OIDC provider %s created", p.ARN)
	case "delete-oidc-provider":
		arn := iam.ProviderARN(f.account, need(f.url, "--url"))
		return r.done(svc.DeleteOpenIDConnectProvider(ctx, arn), "OIDC provider %s deleted", arn)
	case "list":
		return r.list()
	case "apply":
		file, err := iam.LoadFile(need(f.file, "--file"))
		if err != nil {
			return err
		}
		res, err := svc.Apply(ctx, file)
		return r.done(err, "applied %s: %d created, %d updated", f.file, res.Created, res.Updated)
	}
	fmt.Fprint(os.Stderr, iamUsage)
	return usageErr("unknown iam command %q", sub)
}

// need panics with a usage error when a required flag is empty; do
// recovers it (see run).
func need(v, flag string) string {
	if v == "" {
		panic(usageError{flag})
	}
	return v
}

type usageError struct{ flag string }

// done reports success on standard error, or returns err.
func (r iamRun) done(err error, format string, a ...any) error {
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "berth: "+format+"\n", a...)
	return nil
}

// secret prints a new key in the shared-credentials format, once.
func (r iamRun) secret(err error, what, id, secret string) error {
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "berth: %s (the secret is shown this once):\n", what)
	fmt.Fprintf(r.out, "aws_access_key_id = %s\naws_secret_access_key = %s\n", id, secret)
	return nil
}

// principal resolves --user or --role (kind decides which is required
// when both are allowed: kind "").
func (r iamRun) principal(kind string) (string, error) {
	f := r.f
	switch {
	case kind == metadata.KindUser || (kind == "" && f.user != ""):
		p, err := r.svc.Find(r.ctx, f.account, metadata.KindUser, need(f.user, "--user"))
		return p.ARN, err
	case kind == metadata.KindRole || (kind == "" && f.role != ""):
		p, err := r.svc.Find(r.ctx, f.account, metadata.KindRole, need(f.role, "--role"))
		return p.ARN, err
	}
	return "", usageErr("--user or --role is required")
}

func (r iamRun) principalPolicy(sub string) error {
	f, svc, ctx := r.f, r.svc, r.ctx
	arn, err := r.principal("")
	if err != nil {
		return err
	}
	switch sub {
	case "put-policy":
		doc, err := readDoc(need(f.doc, "--document"))
		if err != nil {
			return err
		}
		return r.done(svc.PutInlinePolicy(ctx, arn, need(f.name, "--name"), doc), "policy %s put on %s", f.name, arn)
	case "delete-policy":
		return r.done(svc.DeleteInlinePolicy(ctx, arn, need(f.name, "--name")), "policy %s deleted from %s", f.name, arn)
	case "attach-policy":
		return r.done(svc.AttachPolicy(ctx, arn, need(f.policy, "--policy")), "%s attached to %s", f.policy, arn)
	default:
		return r.done(svc.DetachPolicy(ctx, arn, need(f.policy, "--policy")), "%s detached from %s", f.policy, arn)
	}
}

// registryCredential makes a static registry credential and prints it
// with the ECS agent's ECS_ENGINE_AUTH_DATA (dockercfg) line for it.
func (r iamRun) registryCredential() error {
	arn, err := r.principal("")
	if err != nil {
		return err
	}
	user, pass, err := r.svc.CreateRegistryCredential(r.ctx, arn, r.f.ttl)
	if err != nil {
		return err
	}
	host := r.f.registry
	if host == "" {
		host = ecrmodel.RegistryHost(r.c.ECR.PublicHost, r.f.account)
	}
	cfg, _ := json.Marshal(map[string]map[string]string{"https://" + host: {
		"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)), "email": "",
	}})
	fmt.Fprintf(os.Stderr, "berth: registry credential acting as %s (the password is shown this once):\n", arn)
	fmt.Fprintf(r.out, "username = %s\npassword = %s\nECS_ENGINE_AUTH_TYPE=dockercfg\nECS_ENGINE_AUTH_DATA=%s\n", user, pass, cfg)
	return nil
}

func (r iamRun) listKeys() error {
	owner := ""
	if r.f.user != "" {
		arn, err := r.principal(metadata.KindUser)
		if err != nil {
			return err
		}
		owner = arn
	}
	keys, err := r.svc.Store.ListAccessKeys(r.ctx, owner)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(r.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCESS KEY ID\tSTATUS\tPRINCIPAL\tCREATED")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Status, k.Principal, k.CreatedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

// list prints the account's identities and what they hold (no secrets).
func (r iamRun) list() error {
	st, ctx := r.svc.Store, r.ctx
	ps, err := st.ListPrincipals(ctx, r.f.account, "")
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(r.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tARN\tID\tPOLICIES\tKEYS")
	for _, p := range ps {
		inline, attached, err := st.PrincipalPolicies(ctx, p.ARN)
		if err != nil {
			return err
		}
		var pols []string
		for _, a := range attached {
			pols = append(pols, a.ARN)
		}
		for _, i := range inline {
			pols = append(pols, "inline:"+i.Name)
		}
		sort.Strings(pols)
		var creds []string
		keys, err := st.ListAccessKeys(ctx, p.ARN)
		if err != nil {
			return err
		}
		for _, k := range keys {
			creds = append(creds, k.ID+"("+k.Status+")")
		}
		rcs, err := st.ListRegistryCredentials(ctx, p.ARN)
		if err != nil {
			return err
		}
		for _, c := range rcs {
			creds = append(creds, c.ID+"("+c.Status+")")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Kind, p.ARN, p.ID, strings.Join(pols, ","), strings.Join(creds, ","))
	}
	mps, err := st.ListManagedPolicies(ctx, r.f.account)
	if err != nil {
		return err
	}
	for _, m := range mps {
		fmt.Fprintf(tw, "policy\t%s\t\t\t\n", m.ARN)
	}
	provs, err := st.ListOIDCProviders(ctx, r.f.account)
	if err != nil {
		return err
	}
	for _, p := range provs {
		fmt.Fprintf(tw, "oidc-provider\t%s\t\t\t%s\n", p.ARN, strings.Join(p.ClientIDs, ","))
	}
	return tw.Flush()
}

// readDoc reads a policy document argument: JSON text, file://PATH or a
// path.
func readDoc(arg string) (string, error) {
	if strings.HasPrefix(strings.TrimSpace(arg), "{") {
		return arg, nil
	}
	b, err := os.ReadFile(strings.TrimPrefix(arg, "file://"))
	if err != nil {
		return "", fmt.Errorf("policy document: %w", err)
	}
	return string(b), nil
}

// runIAM runs iamCmd, turning a missing required flag into a usage error.
func runIAM(args []string) (err error) {
	defer func() {
		if v := recover(); v != nil {
			u, ok := v.(usageError)
			if !ok {
				panic(v)
			}
			err = usageErr("%s is required", u.flag)
		}
	}()
	return iamCmd(args)
}
