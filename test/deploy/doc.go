// Package deploy checks the deployment files without a Docker engine:
// docker-compose.yml and docker-compose.single.yml (loaded with
// compose-go, as `docker compose` would), the Dockerfile, and the NATS and
// nginx configs the compose files mount. The nodes' settings are checked
// against the dispatchd binary itself (`dispatchd config env`, `dispatchd
// config check --env`), and the cluster topology against the two-node
// cluster tests that start real processes.
//
// It has only tests, and imports nothing of the server but internal/testproc.
package deploy
