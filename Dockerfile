# posthog-doctor, the customer-run image: small, non-root, writes its reports to /report.
#   docker build -t posthog-doctor .          (in a checkout; no image is published)
#   docker run --rm --network "container:$(docker ps -q --filter label=com.docker.compose.service=web | head -n 1)" \
#     --user "$(id -u):$(id -g)" -v "$PWD/report:/report" posthog-doctor      (README: "Hobby install")
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY pyproject.toml setup.py README.md /src/
COPY posthog_doctor /src/posthog_doctor
COPY checks /src/checks
COPY templates /src/templates
RUN pip install /src && rm -rf /src \
    && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin doctor \
    && mkdir /report && chown doctor:doctor /report

USER 10001:10001
WORKDIR /report
ENV POSTHOG_DOCTOR_OUTPUT=/report
VOLUME ["/report"]
ENTRYPOINT ["posthog-doctor"]
CMD ["run"]
