package secretsmanager

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/storage/crypt"
)

// Credentials opens a pull-through cache rule's credentialArn: the
// secret of account with that ARN, a JSON {"username", "accessToken"}.
func Credentials(st Store, kr *crypt.Keyring) func(ctx context.Context, account, arn string) (user, password string, err error) {
	return func(ctx context.Context, account, arn string) (string, string, error) {
		s, err := st.GetSecret(ctx, account, arn)
		if err != nil {
			return "", "", err
		}
		if !s.DeletionDate.IsZero() {
			return "", "", fmt.Errorf("secret %s is scheduled for deletion", s.Name)
		}
		v, err := auth.OpenSecret(kr, s.Value)
		if err != nil {
			return "", "", err
		}
		var c struct {
			Username    string `json:"username"`
			AccessToken string `json:"accessToken"`
		}
		if err := json.Unmarshal([]byte(v), &c); err != nil {
			return "", "", fmt.Errorf("secret %s is not {\"username\",\"accessToken\"} JSON", s.Name)
		}
		return c.Username, c.AccessToken, nil
	}
}
