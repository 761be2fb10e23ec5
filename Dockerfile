# syntax=docker/dockerfile:1
#
# dispatchd image: a static binary (pure Go, CGO_ENABLED=0: modernc SQLite,
# no libc) on distroless, as the unprivileged user nonroot (65532).
#
#   docker build -t dispatchd .
#   docker run -p 8080:8080 -v dispatchd-data:/data -e DISPATCH_JWT_SECRET=… dispatchd

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# .git stays out of the context, so the toolchain records no revision: pass
# them, e.g. --build-arg VERSION=$(git describe --always --dirty)
# --build-arg REVISION=$(git rev-parse HEAD). Empty: "(devel)".
ARG VERSION=""
ARG REVISION=""
RUN CGO_ENABLED=0 go build -trimpath \
	-ldflags "-s -w -X github.com/dispatchd/dispatchd/internal/buildinfo.version=${VERSION} -X github.com/dispatchd/dispatchd/internal/buildinfo.revision=${REVISION}" \
	-o /out/dispatchd ./cmd/dispatchd \
	&& mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/dispatchd /dispatchd
# A fresh named volume takes the owner of the image's directory: without
# this /data would belong to root and nonroot could not write to it.
COPY --from=build --chown=65532:65532 /out/data /data
USER nonroot:nonroot
ENV DISPATCH_DATA_DIR=/data DISPATCH_ADDR=:8080
VOLUME /data
EXPOSE 8080
# No shell or curl here: the binary probes itself (GET /healthz, 200 or exit 1).
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 CMD ["/dispatchd", "health"]
ENTRYPOINT ["/dispatchd"]
CMD ["serve"]
