# syntax=docker/dockerfile:1
# The service image: `connector serve` on port 8080, as an unprivileged user, on a read-only
# root file system (see docs/deploy.md). Build: docker build -t connector-service:0.1.0 .

FROM python:3.11-slim AS build
WORKDIR /src
# Only what the wheel is built from (.dockerignore admits nothing else).
COPY pyproject.toml README.md ./
COPY engine ./engine
COPY specs ./specs
COPY schemas ./schemas
RUN pip install --no-cache-dir --no-warn-script-location --prefix=/install ".[service]"

FROM python:3.11-slim
# No .pyc written at run time (the root file system is read-only); logs unbuffered.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /install /usr/local
# A numeric user, so Kubernetes can check runAsNonRoot without reading /etc/passwd.
RUN groupadd --gid 10001 connector \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin connector
USER 10001:10001
EXPOSE 8080
# The image has no curl: the interpreter asks /healthz itself.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"]
ENTRYPOINT ["connector"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
