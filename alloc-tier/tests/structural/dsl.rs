//! The value language of `cases.txt` (see its header), built into FFI values with our types,
//! as `golden.py` builds it with the reference's.
#![allow(dead_code)] // each test file uses its own subset

use std::collections::HashMap;

use tvmffi_alloc::map::{Dict, Map};
use tvmffi_alloc::string::{bytes_any_from_bytes, str_any_from_bytes};
use tvmffi_alloc::{Array, BigInt, List, Shape, Tensor};
use tvmffi_core::Any;

use super::nodes::{new_node, types};

pub struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
    names: HashMap<String, Any>,
}

impl<'a> Parser<'a> {
    pub fn new(text: &'a str) -> Self {
        Self { text: text.as_bytes(), pos: 0, names: HashMap::new() }
    }

    fn at(&self) -> u8 {
        self.text.get(self.pos).copied().unwrap_or(0)
    }

    fn peek(&mut self) -> u8 {
        while self.at().is_ascii_whitespace() {
            self.pos += 1;
        }
        self.at()
    }

    fn token(&mut self) -> String {
        self.peek();
        let start = self.pos;
        while self.pos < self.text.len()
            && !self.at().is_ascii_whitespace()
            && !b"()[]{}".contains(&self.at())
        {
            self.pos += 1;
        }
        String::from_utf8(self.text[start..self.pos].to_vec()).unwrap()
    }

    fn string(&mut self) -> Vec<u8> {
        assert_eq!(self.at(), b'"');
        self.pos += 1;
        let mut out = Vec::new();
        while self.at() != b'"' {
            if self.at() == b'\\' {
                self.pos += 1;
                out.push(match self.at() {
                    b'n' => b'\n',
                    b't' => b'\t',
                    c => c,
                });
            } else {
                out.push(self.at());
            }
            self.pos += 1;
        }
        self.pos += 1;
        out
    }

    fn items(&mut self, close: u8) -> Vec<Any> {
        let mut out = Vec::new();
        while self.peek() != close {
            out.push(self.value());
        }
        self.pos += 1;
        out
    }

    pub fn value(&mut self) -> Any {
        match self.peek() {
            b'"' => {
                let s = self.string();
                str_any_from_bytes(&s).unwrap()
            }
            b'[' => {
                self.pos += 1;
                Any::from(Array::from_vec(self.items(b']')))
            }
            b'{' => {
                self.pos += 1;
                Any::from(Map::try_from_iter(pairs(self.items(b'}'))).unwrap())
            }
            b'(' => {
                self.pos += 1;
                let head = self.token();
                let dtype = if head == "tensor" { self.token() } else { String::new() };
                let args = self.items(b')');
                match head.as_str() {
                    "list" => Any::from(List::from_vec(args)),
                    "dict" => Any::from(Dict::try_from_iter(pairs(args)).unwrap()),
                    "shape" => {
                        let dims: Vec<i64> = args.iter().map(|a| a.get().unwrap()).collect();
                        Shape::new(&dims).into_any()
                    }
                    "tensor" => tensor(&dtype, &args),
                    name => new_node(types().by_name(name), args),
                }
            }
            b'b' if self.text.get(self.pos + 1) == Some(&b'"') => {
                self.pos += 1;
                let s = self.string();
                bytes_any_from_bytes(&s).unwrap()
            }
            b'$' => {
                self.pos += 1;
                let start = self.pos;
                while self.at().is_ascii_alphanumeric() || self.at() == b'_' {
                    self.pos += 1;
                }
                let name = String::from_utf8(self.text[start..self.pos].to_vec()).unwrap();
                if self.at() == b':' {
                    self.pos += 1;
                    let v = self.value();
                    self.names.insert(name.clone(), v);
                }
                self.names[&name].clone()
            }
            _ => {
                let tok = self.token();
                if let Some(digits) = tok.strip_prefix("big:") {
                    return digits.parse::<BigInt>().unwrap().into_any();
                }
                match tok.as_str() {
                    "none" => Any::none(),
                    "true" => Any::from(true),
                    "false" => Any::from(false),
                    "nan" => Any::from(f64::NAN),
                    "inf" => Any::from(f64::INFINITY),
                    t if t.contains('.') || t.contains('e') => Any::from(t.parse::<f64>().unwrap()),
                    t => Any::from(t.parse::<i64>().unwrap()),
                }
            }
        }
    }
}

fn pairs(kv: Vec<Any>) -> Vec<(Any, Any)> {
    kv.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect()
}

fn tensor(dtype: &str, values: &[Any]) -> Any {
    let n = [values.len() as i64];
    let t = match dtype {
        "f32" => {
            let v: Vec<f32> = values.iter().map(|a| a.get::<f64>().unwrap() as f32).collect();
            Tensor::from_slice(&n, &v)
        }
        "i64" => {
            let v: Vec<i64> = values.iter().map(|a| a.get().unwrap()).collect();
            Tensor::from_slice(&n, &v)
        }
        other => panic!("unknown dtype {other}"),
    };
    Any::from(t.unwrap())
}

/// Parse one value.
pub fn parse(text: &str) -> Any {
    let mut p = Parser::new(text);
    let v = p.value();
    assert_eq!(p.peek(), 0, "trailing text in {text:?}");
    v
}
