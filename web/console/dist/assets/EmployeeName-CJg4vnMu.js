import{Q as e}from"./index-DqL9IZxE.js";import{u as r}from"./directory-DTl0BfqM.js";function s({id:m}){return e.jsx(e.Fragment,{children:r(m)})}export{s as E};
