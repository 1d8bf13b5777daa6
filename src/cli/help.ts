/**
 * The help text. Plain strings only: `pycage --help` must not load any heavy module.
 */

export const helpText = `pycage: ask a language model for Python, and run it in a sandbox that cannot hurt this machine.

Usage:
  pycage "<request>" [--yes] [--json] [--max-attempts N] [--provider groq|openai] [--model M] [run options]
  pycage                                    interactive session (on a terminal; /help lists its commands)
  pycage run <file.py | -> [run options] [-- script args]
  pycage requirements <file.py | -> [--python X.Y] [--explain] [--index-url URL | --find-links DIR | --no-index]
  pycage extract [file | -]                 print the Python block of a model's answer
  pycage prune                              remove every container, volume and image pycage made
  pycage doctor                             check Docker, the image, the API key and the model endpoint

Request options:
  -y, --yes               run the generated code without asking (required when not on a terminal)
      --json              print one JSON object (the result and every attempt) on stdout
      --max-attempts N    model answers to try before giving up (default 3)
      --provider NAME     groq (default) or openai (any OpenAI-compatible endpoint)
  -m, --model ID          model id (default: PYCAGE_MODEL, else the provider's default)
      --instruction FILE  system instruction to use instead of prompts/instruction.md

Run options:
      --timeout SEC       wall-clock limit for the script: seconds, or 90s, 2m, 1h (default 60)
      --memory SIZE       memory limit, no swap, e.g. 512m, 1g (default 512m)
      --cpus N            CPU quota (default 1)
      --network MODE      public (default): public internet over HTTP(S) through pycage's proxy, nothing
                          else; none: no network; open: Docker's plain bridge (reaches this machine's LAN)
      --allow-host HOST   with public: only these hosts (repeatable: api.github.com, *.example.com,
                          10.0.0.5:5432, 192.168.1.0/24)
  -f, --file PATH         copy a file or a folder into the script's working directory (repeatable);
                          the model is told names, sizes and the first lines of text files
      --no-file-preview   tell the model only the names of the files
      --image NAME        any image with python3 (default: PYCAGE_IMAGE, else built from docker/Dockerfile)
      --gvisor            run under gVisor (Docker runtime runsc)
      --local             no Docker: run on this machine, NOT isolated
      --requirements R    auto (default), none, or a comma list such as "requests==2.32.3,rich"
      --index-url URL     package index (default PyPI)
      --find-links DIR    a folder of wheels, copied in for the install
      --no-index          do not use any index
  -o, --output DIR        files the script writes to output/ land here (default ./output; never
                          over an existing file)
      --no-output         keep nothing the script writes

Package gate (packages nobody vouches for are not installed without a yes):
      --allow-package NAME  install this unknown package (repeatable; * for any); --yes does not
      --min-release-age DAYS  skip releases younger than this (default 7)
      --allow-sdist         allow source-only releases (their build code runs at install)
      --allow-url-requirements  allow name @ URL, file: and path requirements
      --explain             pycage requirements: each requirement's origin beside it

Other:
  -v, --verbose           show each component's log lines
  -V, --version           print pycage's version

Environment:
  GROQ_API_KEY, GROQ_BASE_URL, OPENAI_API_KEY, OPENAI_BASE_URL, PYCAGE_PROVIDER, PYCAGE_MODEL,
  PYCAGE_IMAGE, DOCKER_HOST, NO_COLOR

Exit status: the script's own; 124 timeout; 137 killed for memory; 1 packages could not be
installed, or the answer was no; 2 usage; 3 Docker or image; 4 model (no key, API error, no code
after all attempts, an answer in words only); 5 refused by a safety policy (an unknown package, a
URL requirement); 130 cancelled (Ctrl-C).
`;
