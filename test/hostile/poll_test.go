//go:build linux

package hostile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// pollClient is shared by the attacker's polling items.
var pollClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

// runPoll opens a polling session, POSTs the item's bodies and then
// polls until the server tells it closed the session (a "1" or a 400) or
// holds the poll (the session is alive; dropping the GET ends it).
func (a *attacker) runPoll(ctx context.Context, it item) {
	sid, err := pollOpen(ctx, a.base)
	if err != nil {
		a.setupErr(fmt.Sprintf("%s: %v", it.cat, err))
		return
	}
	url := a.base + "/socket.io/?EIO=4&transport=polling&sid=" + sid
	statuses := make([]int, 0, len(it.frames))
	for _, f := range it.frames {
		code, err := pollDo(ctx, http.MethodPost, url, f.data)
		if err != nil {
			a.setupErr(fmt.Sprintf("%s: POST: %v", it.cat, err))
			return
		}
		statuses = append(statuses, code)
	}
	closed := false
	var body string
	for range 4 {
		gctx, cancel := context.WithTimeout(ctx, pollWait)
		code, b, err := pollGet(gctx, url)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break // held: alive, and now ended by our giving up
		}
		if err != nil {
			a.setupErr(fmt.Sprintf("%s: GET: %v", it.cat, err))
			return
		}
		body = b
		if code != http.StatusOK || b == "1" || strings.HasSuffix(b, "\x1e1") {
			closed = true
			break
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.cat(it.cat)
	st.items++
	st.frames += len(it.frames)
	st.sessions++
	for _, c := range statuses {
		st.httpStatus[c]++
	}
	if strings.Contains(body, "44") {
		st.refusedConnect++
	}
	if closed {
		st.serverClosed++
	} else {
		st.stayedOpen++
	}
	if it.expect == expTooLarge && (len(statuses) == 0 || statuses[0] != http.StatusRequestEntityTooLarge) {
		a.violate(it, fmt.Sprintf("POST over maxPayload answered %v, want 413", statuses))
	}
}

// pollOpen does the polling handshake and returns the sid.
func pollOpen(ctx context.Context, base string) (string, error) {
	code, body, err := pollGet(ctx, base+"/socket.io/?EIO=4&transport=polling")
	if err != nil {
		return "", err
	}
	const key = `"sid":"`
	i := strings.Index(body, key)
	if code != http.StatusOK || !strings.HasPrefix(body, "0{") || i < 0 {
		return "", fmt.Errorf("handshake: %d %q", code, clip(body, 200))
	}
	sid, _, _ := strings.Cut(body[i+len(key):], `"`)
	return sid, nil
}

func pollGet(ctx context.Context, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	res, err := pollClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

func pollDo(ctx context.Context, method, url string, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, waitTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	res, err := pollClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, nil
}
