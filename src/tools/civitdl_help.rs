//! civitdl 2.2.0's argparse texts, verbatim.

/// `civitdl --help` usage block (argparse, 80 columns).
pub(crate) const USAGE: &str = r#"Usage: civitdl [-h] [-s SORTER] [-i INT] [--nsfw-mode MODE] [-k [API_KEY]]
               [--with-prompt | --no-with-prompt]
               [--without-model | --no-without-model] [--limit-rate BYTE]
               [--retry-count INT] [--pause-time FLOAT] [--cache-mode MODE]
               [--strict-mode MODE] [--model-overwrite | --no-model-overwrite]
               [--with-color | --no-with-color] [--verbose | --no-verbose]
               [-v]
               srcmodels [srcmodels ...] rootdir
"#;

/// The rest of `civitdl --help` after the usage block.
pub(crate) const HELP_BODY: &str = r#"
A CLI python script to batch download models from CivitAI with CivitAI Api V1.

positional arguments:
  srcmodels             
                        Provide one or more sources as arguments.
                        A source can be one of the following: model ID, CivitAI URL, string list of sources or batchfiles.
                        - batchfiles must be a textfile of comma separated list of sources.
                        - string list of sources in the following example is "sourceA, sourceB, sourceC, ...":
                        - Example 1: civitdl source1 "sourceA, sourceB, sourceC, ..." source2 ./path/to/root/model/directory
                        - Example 2: civitdl ./batchfile1.txt 123456 ~/Downloads/ComfyUI/models/loras
  rootdir               Root directory of where the downloaded model should go.

options:
  -h, --help            show this help message and exit
  -s SORTER, --sorter SORTER
                        Specify which sorter function to use.
                        Default is "basic" sorter.
                        Provide file path to sorter function if you wish to use a custom sorter.
  -i INT, --max-images INT
                        Specify max images to download for each model.
  --nsfw-mode MODE      Specify the nsfw mode when downloading images. Setting to 0 means the program will only download sfw. Setting to 1 means the program will download sfw, and nsfw images depending on the nsfw rating of the model. Setting to 2 means the program will download both sfw and nsfw.
  -k [API_KEY], --api-key [API_KEY]
                        Prompt user for api key to download models that require users to log in.
  --with-prompt, --no-with-prompt
                        Download images with prompt.
  --without-model, --no-without-model
                        Download only extra details like metadata, images and hashes.
  --limit-rate BYTE     Limit the download speed/rate of resources downloaded from CivitAI.
  --retry-count INT     Specify max number of times to retry downloading a model if it fails.
  --pause-time FLOAT    Specify the number of seconds to pause between each model's download.
  --cache-mode MODE     Specify the cache mode. 0 to not use cache. 1 to use cache and copy existant models based on file path. See documentation on github for more info.
  --strict-mode MODE    Specify the strict mode. Valid modes are 0 and 1. 0 to disable integrity check. 1 to enable maximum integrity check. In scenarios where the user have previously downloaded the model and the program recognizes the repeated download, strict-mode of 1 adds a further integrity check with SHA256 hash against the local model file.
  --model-overwrite, --no-model-overwrite
                        Determine whether to overwrite or skip model download if model is already in path. model=overwrite to overwrite model. no-model-overwrite to skip model.
  --with-color, --no-with-color
                        Enable styles like colors, background colors and bold/italized texts.
  --verbose, --no-verbose
                        Prints out traceback and other useful information.
  -v, --version         Prints out the version of the program.
"#;
